// A 64x64 pixel-art cat, GIF89a, drawn for styxlab (slightlyfs serves it as /cat.gif; no network).
const base64 =
  'R0lGODlhQABAAPIAAP///2BgaHjIUOZ4ligoKAAAAAAAAAAAACH5BAAAAAAALAAAAABAAEAAAAP/CLrc/jDKSau9OOvNu59B' +
  'GHyVOG4mSaWoqIJuG74Sq5m2isf3fr6+XyZIAxBluOKxF5whl8Omk9nkSKdRqfW61T6v4DAvKy6Du+Y0FKNu+9juuLcmr+9W' +
  '9jwWotfjdwKBAmCCg2UMOXw+hYSCZohjioCOV4yHC4kPQZZSnGGQe5p9dn+jcaWmbaipaatiA7ADpBdusbJ1cGq2sxa1sbxk' +
  'JgTDBG7ExZFfIcfGxJlUws5tzMnQItRq2EIkrEk03c8d4NXi49vffUWSeeqifu0No/BG5uu54Pa09e7ndOP5/szdwUQOlEBv' +
  'CsIZPDhGIUGGORwmhCgxAsWK6yii0ahMGwiUj286LmwYcuJAa1hAnqS38l7EkiwRxqyYAAA7';

function decodeBase64(s: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let n = 0;
  let o = 0;
  for (const ch of clean) {
    bits = (bits << 6) | alphabet.indexOf(ch);
    n += 6;
    if (n >= 8) {
      n -= 8;
      out[o++] = (bits >> n) & 0xff;
    }
  }
  return out;
}

export const catGif: Uint8Array = decodeBase64(base64);
