// Message text in the style of the 9P trace (Inferno's Tmsg.text): a kind, a dot, a CamelCase
// name and positional arguments. Cookies are hex (16r1), flags are named (FUA|DF), data payloads
// are shown by size only: `Cmd.Read(16r1,0,4096)`, `Chunk.OffsetData(16r1,DONE,0,array[4096] of byte)`.
import { CmdFlag, HandshakeFlag, Info, Rep, ReplyFlag, State, TxFlag } from './constants.ts';
import { optionName } from './codec.ts';
import { errnoName } from './errors.ts';
import type { ClientOption, ExportInfo, OptionReply, Reply, Request } from './messages.ts';

const q = (s: string): string => JSON.stringify(s);
const hex = (v: bigint): string => `16r${v.toString(16)}`;
const bytes = (b: Uint8Array): string => `array[${b.length}] of byte`;

/** 'OFFSET_DATA' -> 'OffsetData'. */
export function camel(name: string): string {
  return name.toLowerCase().split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/** Set bits by name, unknown ones in hex; no bits read as 0. */
export function flagNames(v: number, names: Readonly<Record<string, number>>): string {
  const out: string[] = [];
  let rest = v;
  for (const [k, bit] of Object.entries(names)) if (v & bit) { out.push(k); rest &= ~bit; }
  if (rest) out.push(`16r${rest.toString(16)}`);
  return out.length ? out.join('|') : '0';
}

export const txFlagsText = (v: number): string => flagNames(v, TxFlag);
export const stateText = (v: number): string => flagNames(v, State);

export function greetingText(flags: number): string {
  return `Server.Greeting(${flagNames(flags, HandshakeFlag)})`;
}

export function clientFlagsText(flags: number): string {
  return `Client.Flags(${flagNames(flags, HandshakeFlag)})`;
}

const INFO_NAMES = new Map<number, string>(Object.entries(Info).map(([k, v]) => [v, k]));
const REP_NAMES = new Map<number, string>(Object.entries(Rep).map(([k, v]) => [v, k]));

export function optionText(o: ClientOption): string {
  switch (o.option) {
    case 'EXPORT_NAME': return `Opt.ExportName(${q(o.name)})`;
    case 'INFO': case 'GO':
      return `Opt.${camel(o.option)}(${q(o.name)},array[] of {${o.requests.map((r) => INFO_NAMES.get(r) ?? r).join(',')}})`;
    case 'LIST_META_CONTEXT': case 'SET_META_CONTEXT':
      return `Opt.${camel(o.option)}(${q(o.name)},array[] of {${o.queries.map(q).join(',')}})`;
    case 'unknown': return `Opt.Unknown(${o.code},${bytes(o.data)})`;
    default: return `Opt.${camel(o.option)}()`;
  }
}

function infoText(i: ExportInfo): string {
  switch (i.info) {
    case 'EXPORT': return `Export(${i.size},${txFlagsText(i.flags)})`;
    case 'NAME': return `Name(${q(i.name)})`;
    case 'DESCRIPTION': return `Description(${q(i.description)})`;
    case 'BLOCK_SIZE': return `BlockSize(${i.minimum},${i.preferred},${i.maximum})`;
    case 'unknown': return `Info(${i.code},${bytes(i.data)})`;
  }
}

export function optionReplyText(r: OptionReply): string {
  const opt = optionName(r.option);
  switch (r.reply) {
    case 'ACK': return `Rep.Ack(${opt})`;
    case 'SERVER': return `Rep.Server(${opt},${q(r.name)}${r.description ? `,${q(r.description)}` : ''})`;
    case 'INFO': return `Rep.Info(${opt},${infoText(r.info)})`;
    case 'META_CONTEXT': return `Rep.MetaContext(${opt},${r.id},${q(r.name)})`;
    case 'ERROR': {
      const name = REP_NAMES.get(r.type) ?? `ERR_16r${r.type.toString(16)}`;
      return `Rep.${camel(name)}(${opt}${r.message ? `,${q(r.message)}` : ''})`;
    }
  }
}

export function exportNameReplyText(size: bigint, flags: number): string {
  return `Server.Export(${size},${txFlagsText(flags)})`;
}

export function requestText(r: Request): string {
  const flags = r.flags ? `,${flagNames(r.flags, CmdFlag)}` : '';
  const name = r.type === 'unknown' ? `Unknown${r.code}` : camel(r.type);
  const args = r.type === 'WRITE' ? `${r.offset},${bytes(r.data)}` : `${r.offset},${r.length}`;
  return `Cmd.${name}(${hex(r.cookie)},${args}${flags})`;
}

export function replyText(r: Reply): string {
  if (r.kind === 'simple') {
    const what = r.error ? errnoName(r.error) : r.data ? bytes(r.data) : '0';
    return `Reply.Simple(${hex(r.cookie)},${what})`;
  }
  const head = `${hex(r.cookie)},${flagNames(r.flags, ReplyFlag)}`;
  const c = r.chunk;
  switch (c.type) {
    case 'NONE': return `Chunk.None(${head})`;
    case 'OFFSET_DATA': return `Chunk.OffsetData(${head},${c.offset},${bytes(c.data)})`;
    case 'OFFSET_HOLE': return `Chunk.OffsetHole(${head},${c.offset},${c.length})`;
    case 'BLOCK_STATUS': {
      const shown = c.extents.slice(0, 8).map((e) => `Extent(${e.length},${stateText(e.flags)})`);
      if (c.extents.length > 8) shown.push(`... ${c.extents.length - 8} more`);
      return `Chunk.BlockStatus(${head},${c.contextId},array[${c.extents.length}] of {${shown.join(',')}})`;
    }
    case 'ERROR': return `Chunk.Error(${head},${errnoName(c.error)}${c.message ? `,${q(c.message)}` : ''})`;
    case 'ERROR_OFFSET': return `Chunk.ErrorOffset(${head},${errnoName(c.error)},${q(c.message)},${c.offset})`;
    case 'unknown-error': return `Chunk.Error16r${c.code.toString(16)}(${head},${errnoName(c.error)},${q(c.message)})`;
  }
}
