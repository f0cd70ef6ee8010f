// styxlab's command line: one verb per part (serve, 9p, nbd), flags parsed with node:util parseArgs.
import { parseArgs } from 'node:util';

const USAGE = `usage: styxlab <command> [flags]

commands:
  serve     run the local 9P server (and the playground)
  9p        a 9P client in the style of plan9port's 9p: ls, read, write, stat, ...
  iouringd  an io_uring daemon speaking the iouringd protocol (IOD1 1.12) on a unix socket
  nbd       an NBD client: info, list, read, write, dump, map, copy

  styxlab <command> --help   shows the flags of one command`;

export async function main(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    case '--version': {
      const { values } = parseArgs({ args: argv, options: { version: { type: 'boolean' } } });
      if (values.version) console.log('styxlab 0.1.0');
      return 0;
    }
    case '9p': {
      const { main: ninep } = await import('./cli/ninep.ts');
      return ninep(rest);
    }
    case 'iouringd':
      return (await import('./cli/iouringd.ts')).iouringd(rest);
    case 'nbd':
      return (await import('./cli/nbd.ts')).main(rest);
    case 'serve':
      return (await import('./cli/serve.ts')).serve(rest);
    default:
      console.error(`styxlab: unknown command '${cmd}'\n${USAGE}`);
      void rest;
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
