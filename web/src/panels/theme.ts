// The theme button: dark or light, remembered; the page's colours and the editor's follow.
import { type Panel, type PanelContext, listen } from '../panel.ts';
import { store } from '../store.ts';

export type Theme = 'dark' | 'light';

export interface ThemeView extends Panel {
  readonly dark: boolean;
  /** Called with each change (the editor's theme follows). */
  onChange: (dark: boolean) => void;
}

export function themePanel(ctx: PanelContext): ThemeView {
  const btn = ctx.el<HTMLButtonElement>('theme');
  const isDark = () => document.documentElement.dataset.theme !== 'light';
  const view: ThemeView = {
    el: btn,
    get dark() {
      return isDark();
    },
    onChange: () => {},
    dispose: listen(btn, 'click', () => {
      const t: Theme = isDark() ? 'light' : 'dark';
      store.setTheme(t);
      apply(t);
    }),
  };
  function apply(t: Theme): void {
    document.documentElement.dataset.theme = t;
    btn.textContent = t === 'dark' ? 'Light theme' : 'Dark theme';
    // A narrow bar shows an icon: the words on hover.
    btn.title = btn.textContent;
    btn.setAttribute('aria-pressed', String(t === 'light'));
    view.onChange(t === 'dark');
  }
  // index.html picked the theme before the first paint.
  apply(isDark() ? 'dark' : 'light');
  return view;
}
