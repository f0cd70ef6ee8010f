// The layout of every message body, per dialect. One table drives encode, decode, the random
// message generator of the tests and the golden-byte checks, so the layouts are written once.
import { type Dialect, MsgType, NONUNAME } from './constants.ts';
import type { MessageType } from './messages.ts';

/** Field encodings. Names: nwname[2] wname[s]...; Qids: nwqid[2] qid[13]...; Data: count[4] bytes
 * (decoded as a view); Stat: n[2] then a stat (Rstat/Twstat); U32Opt: a trailing u32 that older
 * peers omit (Tfsync datasync), decoded as 0 when absent. */
export const Kind = {
  U8: 0,
  U16: 1,
  U32: 2,
  U64: 3,
  Str: 4,
  Qid: 5,
  Names: 6,
  Qids: 7,
  Data: 8,
  Stat: 9,
  Attr: 10,
  SetAttr: 11,
  StatFs: 12,
  Lock: 13,
  U32Opt: 14,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export type Field = readonly [name: string, kind: Kind];

export interface Layout {
  readonly type: MessageType;
  readonly num: number;
  readonly fields: readonly Field[];
  /** Fields of the message interface that this dialect does not carry, with their decoded value. */
  readonly absent: Readonly<Record<string, unknown>>;
}

const core: Record<string, readonly Field[]> = {
  Tversion: [['msize', Kind.U32], ['version', Kind.Str]],
  Rversion: [['msize', Kind.U32], ['version', Kind.Str]],
  Tflush: [['oldtag', Kind.U16]],
  Rflush: [],
  Twalk: [['fid', Kind.U32], ['newfid', Kind.U32], ['wnames', Kind.Names]],
  Rwalk: [['qids', Kind.Qids]],
  Tread: [['fid', Kind.U32], ['offset', Kind.U64], ['count', Kind.U32]],
  Rread: [['data', Kind.Data]],
  Twrite: [['fid', Kind.U32], ['offset', Kind.U64], ['data', Kind.Data]],
  Rwrite: [['count', Kind.U32]],
  Tclunk: [['fid', Kind.U32]],
  Rclunk: [],
  Tremove: [['fid', Kind.U32]],
  Rremove: [],
};

const plan9: Record<string, readonly Field[]> = {
  Topen: [['fid', Kind.U32], ['mode', Kind.U8]],
  Ropen: [['qid', Kind.Qid], ['iounit', Kind.U32]],
  Rcreate: [['qid', Kind.Qid], ['iounit', Kind.U32]],
  Tstat: [['fid', Kind.U32]],
  Rstat: [['stat', Kind.Stat]],
  Twstat: [['fid', Kind.U32], ['stat', Kind.Stat]],
  Rwstat: [],
  Rauth: [['aqid', Kind.Qid]],
  Rattach: [['qid', Kind.Qid]],
};

const authPlain: readonly Field[] = [['afid', Kind.U32], ['uname', Kind.Str], ['aname', Kind.Str]];
const attachPlain: readonly Field[] = [['fid', Kind.U32], ...authPlain];
const unameN: Field = ['nUname', Kind.U32];

const linux: Record<string, readonly Field[]> = {
  Rlerror: [['ecode', Kind.U32]],
  Tstatfs: [['fid', Kind.U32]],
  Rstatfs: [['statfs', Kind.StatFs]],
  Tlopen: [['fid', Kind.U32], ['flags', Kind.U32]],
  Rlopen: [['qid', Kind.Qid], ['iounit', Kind.U32]],
  Tlcreate: [['fid', Kind.U32], ['name', Kind.Str], ['flags', Kind.U32], ['mode', Kind.U32], ['gid', Kind.U32]],
  Rlcreate: [['qid', Kind.Qid], ['iounit', Kind.U32]],
  Tsymlink: [['fid', Kind.U32], ['name', Kind.Str], ['symtgt', Kind.Str], ['gid', Kind.U32]],
  Rsymlink: [['qid', Kind.Qid]],
  Tmknod: [['dfid', Kind.U32], ['name', Kind.Str], ['mode', Kind.U32], ['major', Kind.U32], ['minor', Kind.U32], ['gid', Kind.U32]],
  Rmknod: [['qid', Kind.Qid]],
  Trename: [['fid', Kind.U32], ['dfid', Kind.U32], ['name', Kind.Str]],
  Rrename: [],
  Treadlink: [['fid', Kind.U32]],
  Rreadlink: [['target', Kind.Str]],
  Tgetattr: [['fid', Kind.U32], ['requestMask', Kind.U64]],
  Rgetattr: [['attr', Kind.Attr]],
  Tsetattr: [['fid', Kind.U32], ['attr', Kind.SetAttr]],
  Rsetattr: [],
  Txattrwalk: [['fid', Kind.U32], ['newfid', Kind.U32], ['name', Kind.Str]],
  Rxattrwalk: [['size', Kind.U64]],
  Txattrcreate: [['fid', Kind.U32], ['name', Kind.Str], ['attrSize', Kind.U64], ['flags', Kind.U32]],
  Rxattrcreate: [],
  Treaddir: [['fid', Kind.U32], ['offset', Kind.U64], ['count', Kind.U32]],
  Rreaddir: [['data', Kind.Data]],
  Tfsync: [['fid', Kind.U32], ['datasync', Kind.U32Opt]],
  Rfsync: [],
  Tlock: [['fid', Kind.U32], ['lockType', Kind.U8], ['flags', Kind.U32], ['start', Kind.U64], ['length', Kind.U64], ['procId', Kind.U32], ['clientId', Kind.Str]],
  Rlock: [['status', Kind.U8]],
  Tgetlock: [['fid', Kind.U32], ['lock', Kind.Lock]],
  Rgetlock: [['lock', Kind.Lock]],
  Tlink: [['dfid', Kind.U32], ['fid', Kind.U32], ['name', Kind.Str]],
  Rlink: [],
  Tmkdir: [['dfid', Kind.U32], ['name', Kind.Str], ['mode', Kind.U32], ['gid', Kind.U32]],
  Rmkdir: [['qid', Kind.Qid]],
  Trenameat: [['olddirfid', Kind.U32], ['oldname', Kind.Str], ['newdirfid', Kind.U32], ['newname', Kind.Str]],
  Rrenameat: [],
  Tunlinkat: [['dirfid', Kind.U32], ['name', Kind.Str], ['flags', Kind.U32]],
  Runlinkat: [],
};

function table(dialect: Dialect): Layout[] {
  const bodies: Record<string, readonly Field[]> = { ...core };
  const absent: Record<string, Record<string, unknown>> = {};
  if (dialect === '9P2000.L') {
    Object.assign(bodies, linux);
    bodies.Tauth = [...authPlain, unameN];
    bodies.Rauth = plan9.Rauth;
    bodies.Tattach = [...attachPlain, unameN];
    bodies.Rattach = plan9.Rattach;
  } else {
    Object.assign(bodies, plan9);
    if (dialect === '9P2000.u') {
      bodies.Tauth = [...authPlain, unameN];
      bodies.Tattach = [...attachPlain, unameN];
      bodies.Rerror = [['ename', Kind.Str], ['errno', Kind.U32]];
      bodies.Tcreate = [['fid', Kind.U32], ['name', Kind.Str], ['perm', Kind.U32], ['mode', Kind.U8], ['extension', Kind.Str]];
    } else {
      bodies.Tauth = authPlain;
      bodies.Tattach = attachPlain;
      bodies.Rerror = [['ename', Kind.Str]];
      bodies.Tcreate = [['fid', Kind.U32], ['name', Kind.Str], ['perm', Kind.U32], ['mode', Kind.U8]];
      absent.Tauth = { nUname: NONUNAME };
      absent.Tattach = { nUname: NONUNAME };
      absent.Rerror = { errno: 0 };
      absent.Tcreate = { extension: '' };
    }
  }
  return Object.entries(bodies).map(([type, fields]) => ({
    type: type as MessageType,
    num: MsgType[type as keyof typeof MsgType],
    fields,
    absent: absent[type] ?? {},
  }));
}

export interface DialectTable {
  readonly dialect: Dialect;
  /** Indexed by type number; undefined for numbers the dialect does not define. */
  readonly byNum: ReadonlyArray<Layout | undefined>;
  readonly byType: ReadonlyMap<MessageType, Layout>;
}

function build(dialect: Dialect): DialectTable {
  const byNum: Array<Layout | undefined> = new Array(256).fill(undefined);
  const byType = new Map<MessageType, Layout>();
  for (const l of table(dialect)) {
    byNum[l.num] = l;
    byType.set(l.type, l);
  }
  return { dialect, byNum, byType };
}

export const TABLES: Readonly<Record<Dialect, DialectTable>> = {
  '9P2000': build('9P2000'),
  '9P2000.u': build('9P2000.u'),
  '9P2000.L': build('9P2000.L'),
};
