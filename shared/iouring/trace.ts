// Message text in the style of the 9P trace (Inferno's Tmsg.text): a kind, then its fields in
// wire order, payloads shown as array[n] of byte. `->` marks what a client sends, `<-` what it gets.
import { OP_NAMES, TASK_KIND_NAMES, TRACE_EVENT_NAMES } from './constants.ts';
import type {
  Capabilities, Completion, Request, ResourceResult, Stats, SubmitResult, TraceEvent, TraceResult,
} from './messages.ts';

const bytes = (b: Uint8Array): string => `array[${b.length}] of byte`;
const camel = (s: string): string => s.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
const hex = (v: number): string => `16r${v.toString(16)}`;

export function requestText(r: Request): string {
  const k = `Req.${camel(r.kind)}`;
  switch (r.kind) {
    case 'nop': return `${k}(${r.priority})`;
    case 'timeout': return `${k}(${r.priority},${r.timeoutNsec}ns)`;
    case 'cancel': return `${k}(${r.priority},task ${r.target})`;
    case 'sock_read': case 'file_read': return `${k}(${r.priority},${r.resourceId},${r.length})`;
    case 'sock_write': case 'file_write': return `${k}(${r.priority},${r.resourceId},${bytes(r.data)})`;
    case 'sock_read_fixed': case 'sock_write_fixed': return `${k}(${r.priority},${r.resourceId},buf ${r.bufferId},${r.length})`;
    case 'poll': return `${k}(${r.priority},${r.resourceId},${hex(r.pollMask)})`;
    case 'connect': return `${k}(${r.priority},${r.resourceId},${bytes(r.sockaddr)})`;
    case 'accept': return `${k}(${r.priority},${r.resourceId},${r.sockaddrLength})`;
    case 'openat': {
      const path = new TextDecoder().decode(r.path.subarray(0, r.path.length - 1));
      return `${k}(${r.priority},${JSON.stringify(path)},${hex(r.flags >>> 0)},8r${r.mode.toString(8)})`;
    }
    case 'close': return `${k}(${r.priority},${r.resourceId})`;
    case 'register_fd': case 'get_stats': return `${k}()`;
    case 'release_resource': return `${k}(${r.resourceId})`;
    case 'register_buffer': return `${k}(${bytes(r.data)})`;
    case 'get_trace': return `${k}(after ${r.afterSequence},${r.maxEvents})`;
  }
}

export function capabilitiesText(c: Capabilities): string {
  const ops = OP_NAMES.filter((_, i) => (c.opMask & (1 << i)) !== 0).join('|');
  return `Caps(ring ${c.ringEntries},cq ${c.cqEntries},credits ${c.submitCredits},fds ${c.registeredFdSlots},` +
    `bufs ${c.registeredBufferSlots},io ${c.ioBytesMax},features ${hex(c.features)},ops ${ops})`;
}

export const submitResultText = (r: SubmitResult): string => `Rsp.Submit(${r.taskId},${r.res},${r.credits})`;
export const resourceResultText = (r: ResourceResult): string => `Rsp.Resource(${r.resourceId},${r.res},${r.available})`;

export function statsText(s: Stats): string {
  return `Rsp.Stats(clients ${s.activeClients},tasks ${s.outstandingTasks},credit tasks ${s.outstandingCreditTasks},` +
    `credits ${s.availableCredits},files ${s.registeredFiles},bufs ${s.registeredBuffers},accepted ${s.acceptedSubmits},` +
    `rejected ${s.rejectedSubmits},completions ${s.completions},limit ${s.perClientCreditLimit},at limit ${s.clientsAtCreditLimit})`;
}

export function traceEventText(e: TraceEvent): string {
  return `Event(${e.sequence},${TRACE_EVENT_NAMES[e.eventKind] ?? e.eventKind},${TASK_KIND_NAMES[e.taskKind] ?? e.taskKind},` +
    `slot ${e.clientSlot},task ${e.taskId},resource ${e.resourceId},res ${e.res},credits ${e.credits})`;
}

export const traceResultText = (r: TraceResult): string =>
  `Rsp.Trace(${r.oldestSequence},${r.latestSequence},array[${r.events.length}] of Event)`;

export function completionText(c: Completion): string {
  const k = camel(TASK_KIND_NAMES[c.taskKind] ?? String(c.taskKind));
  return `Cmp.${k}(${c.taskId},${c.res}${c.payload.length ? `,${bytes(c.payload)}` : ''})`;
}
