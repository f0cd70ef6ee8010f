// The Files panel: the backend chooser, the file tree (a chosen file opens in the viewer over the
// editor: a picture, text or hex) and the Mounts list with its status poll.
import type { Client } from '../../../shared/client/index.ts';
import { Explorer } from '../explorer.ts';
import { MountsPanel, type MountsHooks } from '../mounts.ts';
import { fetchBackends } from '../net.ts';
import { type Panel, type PanelContext, disposer, listen } from '../panel.ts';
import { FileViewer } from '../viewer.ts';

export interface FilesView extends Panel {
  /** Connects to the local namespace and starts the Mounts poll (after the editor is up). */
  start(): void;
}

export function filesPanel(ctx: PanelContext, runs: MountsHooks): FilesView {
  const d = disposer();
  const ev = ctx.events;
  const backend = ctx.el<HTMLSelectElement>('backend');
  const aname = ctx.el<HTMLInputElement>('aname');
  const uname = ctx.el<HTMLInputElement>('uname');
  const attachFields = ctx.el('attach-fields');
  const viewer = new FileViewer(ctx.el('viewer'));
  let client: Client | null = null;

  const explorer = new Explorer(ctx.el('tree'), ctx.el('files-note'), {
    open: (path) => {
      if (client) void viewer.show(client, path);
    },
    client: (c) => {
      client = c;
      ev.emit('client', { client: c, backend: explorer.backend });
    },
  });
  const mounts = new MountsPanel(ctx.el('mounts'), explorer, runs);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const listAgain = () => void explorer.ensure().then(() => explorer.refresh());

  const connect = () => {
    const b = backend.value;
    const local = b === 'local';
    attachFields.hidden = local;
    viewer.close();
    void explorer.connect(b, local ? '' : aname.value.trim(), local ? '' : uname.value.trim());
  };
  for (const el of [backend, aname, uname]) d.add(listen(el, 'change', connect));
  d.add(listen(ctx.el('refresh'), 'click', listAgain));
  d.add(ev.on('files', listAgain));
  d.add(ev.on('run', ({ name, state, detail }) => mounts.note(name, state, detail)));
  d.add(ev.on('mounts', ({ later: again }) => {
    void mounts.poll();
    // The server unmounts a moment after a socket closes: look again then.
    if (again) later(() => void mounts.poll(), 250);
  }));

  async function loadBackends(): Promise<void> {
    try {
      const list = await fetchBackends(AbortSignal.timeout(5000));
      for (const b of list) {
        if (b.name === 'local') continue;
        const o = new Option(`${b.name} (${b.kind})`, b.name);
        // The explorer speaks 9P; NBD and io_uring backends are for other tools.
        o.disabled = b.kind !== '9p';
        backend.append(o);
      }
    } catch {
      // The local namespace still works.
    }
  }

  return {
    el: ctx.el('files'),
    start() {
      void loadBackends();
      void explorer.connect('local', '').then(() => mounts.poll()).finally(() => mounts.schedule());
    },
    dispose() {
      mounts.unschedule();
      for (const t of timers) clearTimeout(t);
      viewer.close();
      d.dispose();
      explorer.disconnect();
    },
  };
}
