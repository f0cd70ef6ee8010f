// The Trace panel: the 9P messages of this tab's runs and checks, as text or as a sequence
// diagram with a clicked message's fields beside it; filter, pause and clear.
import { type Panel, type PanelContext, disposer, listen } from '../panel.ts';
import { TracePanel } from '../trace.ts';

export interface TraceView extends Panel {
  /** The lines kept (for tests and the browser console). */
  readonly text: string;
}

export function tracePanel(ctx: PanelContext): TraceView {
  const d = disposer();
  const trace = new TracePanel(ctx.el('trace-out'), ctx.el('trace-count'));
  const detail = ctx.el('trace-detail');
  const pause = ctx.el<HTMLButtonElement>('trace-pause');
  const view = ctx.el<HTMLButtonElement>('trace-view');

  d.add(ctx.events.on('trace', ({ lines, times }) => trace.add(lines, times)));
  d.add(ctx.events.on('mark', (text) => trace.mark(text)));
  d.add(listen(ctx.el('trace-filter'), 'input', (ev) => trace.setFilter((ev.target as HTMLInputElement).value)));
  d.add(listen(pause, 'click', () => {
    const p = pause.getAttribute('aria-pressed') !== 'true';
    pause.setAttribute('aria-pressed', String(p));
    pause.textContent = p ? 'Resume' : 'Pause';
    trace.setPaused(p);
  }));
  d.add(listen(ctx.el('trace-clear'), 'click', () => trace.clear()));
  d.add(listen(view, 'click', () => {
    const on = view.getAttribute('aria-pressed') !== 'true';
    view.setAttribute('aria-pressed', String(on));
    view.textContent = on ? 'Text' : 'Diagram';
    view.title = on ? 'Show the trace as text' : 'Show the trace as a sequence diagram';
    trace.setDiagram(on);
    if (!on) detail.hidden = true;
  }));
  trace.onPick = (p, line) => {
    const dl = document.createElement('dl');
    for (const [k, v] of [['message', p.type], ['tag', String(p.tag)], ...p.fields]) {
      dl.append(Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v }));
    }
    const close = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Close', title: line });
    close.onclick = () => { detail.hidden = true; };
    detail.replaceChildren(dl, close);
    detail.hidden = false;
  };
  return {
    el: ctx.el('trace-pane'),
    get text() {
      return trace.text;
    },
    dispose: () => {
      trace.onPick = () => {};
      d.dispose();
    },
  };
}
