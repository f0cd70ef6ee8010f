// The fortunes slightlyfs deals from. Written for styxlab, in the spirit of /lib/games/fortunes.
export const fortunes: readonly string[] = [
  'Everything is a file; some files are more everything than others.',
  'A walk of sixteen names begins with a single Twalk.',
  'He who holds the fid holds the file.',
  'Clunk early, clunk often.',
  'The tag you flush today is the tag you reuse tomorrow.',
  'There is no place like 127.0.0.1.',
  'Qids are forever; names are negotiable.',
  'Read at offset zero, and the story begins again.',
  'An Rerror is just a reply with feelings.',
  'Mount it, and it is yours.',
  'In 9P, even the clock is a file you can cat.',
  'Your fortune is fixed until you open the file again.',
];
