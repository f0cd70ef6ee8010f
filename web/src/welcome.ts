// The welcome: what styxlab is, what Run does and where to look, the two lessons, and lines to
// read the running server from outside the browser, filled in with the real mount name and 9P
// address. Shown on a first visit; Help shows it again.
import { fetchStatus } from './net.ts';
import { store } from './store.ts';

export interface WelcomeHooks {
  mountName(): string;
  openLesson(id: string): void;
}

const DEFAULT_9P = '127.0.0.1:5640';

/** The 9P listener's host:port from the server's status ('tcp!127.0.0.1!5640' there). */
async function ninepAddress(): Promise<string> {
  try {
    const s = await fetchStatus(AbortSignal.timeout(3000));
    const listen = (s as { ninep?: { listen?: unknown } }).ninep?.listen;
    const first = Array.isArray(listen) ? listen.find((a): a is string => typeof a === 'string' && a.startsWith('tcp!')) : undefined;
    if (first) {
      const [, host, port] = first.split('!');
      return `${host}:${port}`;
    }
  } catch {
    // The defaults are what `npm start` uses.
  }
  return DEFAULT_9P;
}

/** The lines to paste, for NAME on the 9P listener at addr. */
export function outsideCommands(name: string, addr: string): string[] {
  const [host, port] = addr.split(':');
  const dial = addr === DEFAULT_9P ? '' : ` -a 'tcp!${host}!${port}'`;
  return [
    `npx styxlab 9p${dial} read /${name}/hello`,
    `diodcat -s ${addr} -a ${name} hello`,
    `sudo mkdir -p /mnt/${name} && sudo mount -t 9p -o trans=tcp,port=${port},version=9p2000.L,aname=${name} ${host} /mnt/${name}`,
  ];
}

export class Welcome {
  constructor(private readonly el: HTMLElement, private readonly hooks: WelcomeHooks) {
    const $ = (id: string) => el.querySelector<HTMLButtonElement>(`#${id}`)!;
    $('welcome-close').onclick = () => this.hide();
    $('welcome-lesson1').onclick = () => {
      this.hide();
      hooks.openLesson('lesson-hello');
    };
    $('welcome-lesson2').onclick = () => {
      this.hide();
      hooks.openLesson('lesson-slightly');
    };
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.hide();
    });
  }

  /** On a first visit only. */
  firstVisit(): void {
    if (!store.welcomed()) void this.show();
  }

  async show(): Promise<void> {
    const name = this.hooks.mountName() || 'NAME';
    for (const n of this.el.querySelectorAll('.w-name')) n.textContent = name;
    this.el.hidden = false;
    this.el.querySelector<HTMLButtonElement>('#welcome-close')?.focus();
    const list = this.el.querySelector('#welcome-cmds')!;
    const addr = await ninepAddress();
    list.replaceChildren(...outsideCommands(name, addr).map((line) => {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = line;
      const copy = document.createElement('button');
      copy.type = 'button';
      copy.textContent = 'Copy';
      copy.title = 'Copy this line';
      copy.onclick = () => void navigator.clipboard.writeText(line).then(() => { copy.textContent = 'Copied'; }, () => { copy.textContent = 'Select it by hand'; });
      li.append(code, copy);
      return li;
    }));
  }

  hide(): void {
    this.el.hidden = true;
    store.setWelcomed();
  }
}
