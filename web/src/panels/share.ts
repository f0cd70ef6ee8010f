// The Share button and its box: a link holding the program, copied to the clipboard.
import { type Panel, type PanelContext, disposer, listen } from '../panel.ts';
import { encodeShare } from '../share.ts';

export interface ShareHooks {
  /** What the link carries: the document it started from, the mount name and the code. */
  snapshot(): { doc: string; name: string; code: string };
}

export function sharePanel(ctx: PanelContext, hooks: ShareHooks): Panel {
  const d = disposer();
  const box = ctx.el('share-box');
  const link = ctx.el<HTMLInputElement>('share-link');
  const say = (text: string) => ctx.events.emit('say', { text, kind: 'info' });
  d.add(listen(ctx.el('share'), 'click', async () => {
    // The link goes to the box and the clipboard, not to this tab's address: a reload here is
    // not a trip back to the snapshot.
    const url = location.origin + location.pathname + (await encodeShare(hooks.snapshot()));
    link.value = url;
    box.hidden = false;
    link.focus();
    link.select();
    try {
      await navigator.clipboard.writeText(url);
      say('link copied to the clipboard');
    } catch {
      say('link in the address bar (copy it from there)');
    }
  }));
  d.add(listen(ctx.el('share-close'), 'click', () => {
    box.hidden = true;
  }));
  return { el: box, dispose: d.dispose };
}
