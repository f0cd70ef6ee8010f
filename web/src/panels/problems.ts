// The problems list above the console: why a program did not run (or what a live reload runs
// with); each error with a place takes the cursor there.
import type { Problem } from '../compile.ts';
import type { Panel, PanelContext } from '../panel.ts';
import { problemText } from '../runs.ts';

export interface ProblemsView extends Panel {
  /** Lists errors (none: hides the list); heading: what they meant, when not that nothing ran. */
  show(errors: Problem[], heading?: string): void;
}

export function problemsPanel(ctx: PanelContext, reveal: (line: number, column: number) => void): ProblemsView {
  const el = ctx.el('problems');
  return {
    el,
    show(errors, heading) {
      el.replaceChildren();
      if (errors.length === 0) {
        el.hidden = true;
        return;
      }
      const h = document.createElement('p');
      h.textContent = heading ?? `Not run: ${errors.length} error${errors.length > 1 ? 's' : ''}`;
      const ul = document.createElement('ul');
      for (const e of errors.slice(0, 50)) {
        const li = document.createElement('li');
        if (e.line) {
          const b = document.createElement('button');
          b.type = 'button';
          b.className = 'problem';
          b.textContent = problemText(e);
          b.onclick = () => reveal(e.line, e.column);
          li.append(b);
        } else li.textContent = problemText(e);
        ul.append(li);
      }
      el.append(h, ul);
      el.hidden = false;
    },
    dispose() {
      el.replaceChildren();
    },
  };
}
