// The Console panel: a shell over the explorer's 9P connection (ls, cat, echo > file, ...) and
// the lines the page and the running programs have to say.
import { ConsoleView } from '../consoleview.ts';
import { type Panel, type PanelContext, disposer, listen } from '../panel.ts';

export function consolePanel(ctx: PanelContext): Panel {
  const d = disposer();
  const con = new ConsoleView(ctx.el('console-out'), ctx.el<HTMLInputElement>('console-in'), ctx.el<HTMLFormElement>('console-form'), ctx.el('console-prompt'));
  d.add(listen(ctx.el('console-clear'), 'click', () => con.clear()));
  d.add(ctx.events.on('say', ({ text, kind }) => con.write(text, kind)));
  let backend = '';
  d.add(ctx.events.on('client', (c) => {
    con.shell.client = c.client;
    // Another backend is another tree: start at its root.
    if (c.backend !== backend) con.shell.cwd = '/';
    backend = c.backend;
  }));
  // A command that wrote or removed something: the tree lists again.
  con.onChange = () => ctx.events.emit('files', undefined);
  con.write('styxlab console: type help', 'info');
  return {
    el: ctx.el('console-pane'),
    dispose: () => {
      con.onChange = () => {};
      d.dispose();
    },
  };
}
