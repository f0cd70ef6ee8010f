// styxlab's io_uring addon: the thin native part of `styxlab iouringd`.
//
// It does only what Node cannot: an io_uring (setup, probe, registered files and buffers, prepare
// and submit SQEs, reap CQEs) and the unix-socket calls that carry SCM_RIGHTS (recvmsg, sendmsg),
// with libuv polls on the main loop for readiness. Protocol, admission, credits and policy live
// in TypeScript (server/iouring/). Completions are signalled through an eventfd registered with
// the ring and watched by a uv_poll, so no extra thread is involved and a batch of CQEs costs one
// call into JavaScript.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "iouring addon: " #call " failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static int32_t arg_i32(napi_env env, napi_value v) {
  int32_t r = 0;
  napi_get_value_int32(env, v, &r);
  return r;
}

static double arg_f64(napi_env env, napi_value v) {
  double r = 0;
  napi_get_value_double(env, v, &r);
  return r;
}

// A typed array or Buffer argument: its bytes. Null/undefined give NULL, 0.
static int arg_bytes(napi_env env, napi_value v, void** data, size_t* len) {
  bool is_ta = false;
  *data = NULL;
  *len = 0;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) return 0;
  napi_typedarray_type t;
  napi_value ab;
  size_t off, n;
  if (napi_get_typedarray_info(env, v, &t, &n, data, &ab, &off) != napi_ok) return -1;
  size_t el = (t == napi_float64_array || t == napi_bigint64_array || t == napi_biguint64_array) ? 8
              : (t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array) ? 4
              : (t == napi_int16_array || t == napi_uint16_array) ? 2 : 1;
  *len = n * el;
  return 0;
}

#define ARGS(n)                                                  \
  size_t argc = n;                                               \
  napi_value argv[n];                                            \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));

// ---------------------------------------------------------------- sockets

// listenUnix(path, backlog) -> [fd, step, errno]; step 0 ok, 1 socket, 2 cloexec, 3 nonblock,
// 4 bind, 5 listen. The steps are separate calls so each failure gets the original's message.
static napi_value listen_unix(napi_env env, napi_callback_info info) {
  ARGS(2);
  char path[sizeof(((struct sockaddr_un*)0)->sun_path)];
  size_t plen = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen));
  int backlog = arg_i32(env, argv[1]);
  int fd = -1, step = 0, err = 0;
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) { step = 1; err = errno; goto out; }
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) { step = 2; err = errno; goto out; }
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) { step = 3; err = errno; goto out; }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, plen);
  unlink(path);
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) < 0) { step = 4; err = errno; goto out; }
  if (listen(fd, backlog) < 0) { step = 5; err = errno; goto out; }
out:
  if (step && fd >= 0) { close(fd); fd = -1; }
  napi_value r;
  CHECK(napi_create_array_with_length(env, 3, &r));
  napi_set_element(env, r, 0, num(env, fd));
  napi_set_element(env, r, 1, num(env, step));
  napi_set_element(env, r, 2, num(env, err));
  return r;
}

// socketUnix() -> a new unconnected AF_UNIX stream socket (close-on-exec), or -errno. For
// CONNECT, whose socket must exist before it is connected (Node cannot make one).
static napi_value socket_unix(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  return num(env, fd < 0 ? -errno : fd);
}

// acceptConn(fd) -> new fd (close-on-exec, non-blocking) or -errno.
static napi_value accept_conn(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = accept4(arg_i32(env, argv[0]), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  return num(env, fd < 0 ? -errno : fd);
}

// recvFds(fd, buf, out: Int32Array(2)) -> bytes read, or -errno. out[0] is the fd passed with the
// bytes or -1; out[1] is 1 when the ancillary data broke the rules (truncated, not exactly one
// SCM_RIGHTS int): the daemon then closes the connection. Any fds received in a bad message are
// closed here.
static napi_value recv_fds(napi_env env, napi_callback_info info) {
  ARGS(3);
  void *buf, *outp;
  size_t len, outlen;
  if (arg_bytes(env, argv[1], &buf, &len) || arg_bytes(env, argv[2], &outp, &outlen) || outlen < 8) {
    napi_throw_type_error(env, NULL, "recvFds(fd, Uint8Array, Int32Array(2))");
    return NULL;
  }
  int32_t* out = outp;
  out[0] = -1;
  out[1] = 0;
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int) * 8)]; } ctl;
  struct iovec iov = {buf, len};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl.b;
  mh.msg_controllen = sizeof ctl.b;
  ssize_t n = recvmsg(arg_i32(env, argv[0]), &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) return num(env, -errno);
  int got = 0, bad = (mh.msg_flags & MSG_CTRUNC) != 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) { bad = 1; continue; }
    size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* fds = (int*)CMSG_DATA(c);
    for (size_t i = 0; i < nfd; i++) {
      if (got == 0 && c->cmsg_len == CMSG_LEN(sizeof(int))) out[0] = fds[i];
      else { bad = 1; close(fds[i]); }
      got++;
    }
  }
  if (bad && out[0] >= 0) { close(out[0]); out[0] = -1; }
  out[1] = bad;
  return num(env, (double)n);
}

// sendBytes(fd, buf[, passFd]) -> bytes sent or -errno. Never raises SIGPIPE (MSG_NOSIGNAL: the
// original dies of it, see the document's quirks). With passFd the bytes carry it as SCM_RIGHTS.
static napi_value send_bytes(napi_env env, napi_callback_info info) {
  ARGS(3);
  void* buf;
  size_t len;
  if (arg_bytes(env, argv[1], &buf, &len)) return num(env, -EINVAL);
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  int pass = t == napi_number ? arg_i32(env, argv[2]) : -1;
  struct iovec iov = {buf, len};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
  if (pass >= 0) {
    memset(&ctl, 0, sizeof ctl);
    mh.msg_control = ctl.b;
    mh.msg_controllen = sizeof ctl.b;
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass, sizeof(int));
  }
  ssize_t n = sendmsg(arg_i32(env, argv[0]), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
  return num(env, n < 0 ? -errno : (double)n);
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  return num(env, close(arg_i32(env, argv[0])) < 0 ? -errno : 0);
}

// unlinkPath(path) -> 0 or -errno (used by shutdown, which must not wait for the fs promises).
static napi_value unlink_path(napi_env env, napi_callback_info info) {
  ARGS(1);
  char path[4096];
  size_t plen;
  CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen));
  return num(env, unlink(path) < 0 ? -errno : 0);
}

// strerror(errno) -> the C library's text, so messages read exactly as the original's.
static napi_value str_error(napi_env env, napi_callback_info info) {
  ARGS(1);
  napi_value r;
  CHECK(napi_create_string_utf8(env, strerror(arg_i32(env, argv[0])), NAPI_AUTO_LENGTH, &r));
  return r;
}

// addressOf(typedArray) -> the address of its first byte modulo 2^32 (for O_DIRECT alignment).
static napi_value address_of(napi_env env, napi_callback_info info) {
  ARGS(1);
  void* p;
  size_t n;
  arg_bytes(env, argv[0], &p, &n);
  return num(env, (double)((uintptr_t)p & 0xffffffffu));
}

// ---------------------------------------------------------------- fd watches (uv_poll)

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  int closing;
} watch_t;

static void watch_cb(uv_poll_t* h, int status, int events) {
  watch_t* w = (watch_t*)h->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, args[2];
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &global);
  args[0] = num(env, status);
  args[1] = num(env, events);
  napi_value result;
  if (napi_make_callback(env, NULL, global, cb, 2, args, &result) != napi_ok) {
    // An exception from JavaScript: let Node report it as uncaught.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void watch_closed(uv_handle_t* h) { free(h->data); }

static void watch_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  watch_t* w = data;
  if (!w->closing) {
    w->closing = 1;
    uv_close((uv_handle_t*)&w->poll, watch_closed);
  }
}

static int uv_events(int r, int wr) { return (r ? UV_READABLE : 0) | (wr ? UV_WRITABLE : 0); }

// watch(fd, readable, writable, cb(status, events)) -> handle. cb runs on the main loop.
static napi_value watch(napi_env env, napi_callback_info info) {
  ARGS(4);
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watch_t* w = calloc(1, sizeof *w);
  w->env = env;
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, arg_i32(env, argv[0]));
  if (rc) {
    free(w);
    napi_throw_error(env, NULL, uv_strerror(rc));
    return NULL;
  }
  CHECK(napi_create_reference(env, argv[3], 1, &w->cb));
  bool r, wr;
  napi_get_value_bool(env, argv[1], &r);
  napi_get_value_bool(env, argv[2], &wr);
  int ev = uv_events(r, wr);
  if (ev) uv_poll_start(&w->poll, ev, watch_cb);
  napi_value ext;
  CHECK(napi_create_external(env, w, NULL, NULL, &ext));
  return ext;
}

static watch_t* get_watch(napi_env env, napi_value v) {
  void* p = NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

// watchSet(handle, readable, writable)
static napi_value watch_set(napi_env env, napi_callback_info info) {
  ARGS(3);
  watch_t* w = get_watch(env, argv[0]);
  if (!w || w->closing) return NULL;
  bool r, wr;
  napi_get_value_bool(env, argv[1], &r);
  napi_get_value_bool(env, argv[2], &wr);
  int ev = uv_events(r, wr);
  if (ev) uv_poll_start(&w->poll, ev, watch_cb);
  else uv_poll_stop(&w->poll);
  return NULL;
}

// unwatch(handle): stops and frees the poll. Call it before closing the fd.
static napi_value unwatch(napi_env env, napi_callback_info info) {
  ARGS(1);
  watch_t* w = get_watch(env, argv[0]);
  if (!w || w->closing) return NULL;
  napi_delete_reference(env, w->cb);
  watch_finalize(env, w, NULL);
  return NULL;
}

// ---------------------------------------------------------------- the ring

#define MAX_REAP 256

typedef struct {
  struct io_uring ring;
  int efd;
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_ref out_ref;
  double* out;       // [user_data, res] pairs, MAX_REAP of them, owned by a JS Float64Array
  int started, closed;
} ring_t;

static ring_t* get_ring(napi_env env, napi_value v) {
  void* p = NULL;
  napi_get_value_external(env, v, &p);
  ring_t* r = p;
  if (!r || r->closed) {
    napi_throw_error(env, NULL, "iouring addon: ring is closed");
    return NULL;
  }
  return r;
}

// The arguments of a ring call, the first being the ring: r, or a thrown error when it is closed.
#define RING_ARGS(n)                       \
  ARGS(n);                                 \
  ring_t* r = get_ring(env, argv[0]);      \
  if (!r) return NULL

// The protocol's op_mask bits, in order, and the io_uring opcodes that back them.
static const int OPS[12] = {
  IORING_OP_NOP, IORING_OP_TIMEOUT, IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_ASYNC_CANCEL,
  IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED, IORING_OP_POLL_ADD, IORING_OP_CONNECT,
  IORING_OP_ACCEPT, IORING_OP_OPENAT, IORING_OP_CLOSE,
};

// ringCreate(entries) -> [ring|null, errno, stage (1 setup, 2 probe), sq, cq, features, opMask]
static napi_value ring_create(napi_env env, napi_callback_info info) {
  ARGS(1);
  unsigned entries = (unsigned)arg_i32(env, argv[0]);
  ring_t* r = calloc(1, sizeof *r);
  r->efd = -1;
  struct io_uring_params p;
  int err = 0, stage = 0;
  unsigned op_mask = 0;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SINGLE_ISSUER;
  int rc = io_uring_queue_init_params(entries, &r->ring, &p);
  if (rc == -EINVAL) {  // kernels before 6.0 do not know SINGLE_ISSUER
    memset(&p, 0, sizeof p);
    rc = io_uring_queue_init_params(entries, &r->ring, &p);
  }
  if (rc < 0) { err = -rc; stage = 1; goto out; }
  struct io_uring_probe* probe = calloc(1, sizeof *probe + 256 * sizeof(struct io_uring_probe_op));
  rc = io_uring_register_probe(&r->ring, probe, 256);
  if (rc < 0) {
    free(probe);
    io_uring_queue_exit(&r->ring);
    err = -rc;
    stage = 2;
    goto out;
  }
  for (int i = 0; i < 12; i++) {
    if (OPS[i] <= probe->last_op && (probe->ops[OPS[i]].flags & IO_URING_OP_SUPPORTED)) op_mask |= 1u << i;
  }
  free(probe);
out:;
  napi_value res, ext;
  CHECK(napi_create_array_with_length(env, 7, &res));
  if (stage) {
    free(r);
    napi_get_null(env, &ext);
  } else {
    CHECK(napi_create_external(env, r, NULL, NULL, &ext));
  }
  napi_set_element(env, res, 0, ext);
  napi_set_element(env, res, 1, num(env, err));
  napi_set_element(env, res, 2, num(env, stage));
  napi_set_element(env, res, 3, num(env, p.sq_entries));
  napi_set_element(env, res, 4, num(env, p.cq_entries));
  napi_set_element(env, res, 5, num(env, p.features));
  napi_set_element(env, res, 6, num(env, op_mask));
  return res;
}

// ringRegisterFiles(ring, n) -> 0 or -errno: n empty fixed-file slots.
static napi_value ring_register_files(napi_env env, napi_callback_info info) {
  RING_ARGS(2);
  unsigned n = (unsigned)arg_i32(env, argv[1]);
  int* fds = malloc(n * sizeof(int));
  if (!fds) return num(env, -ENOMEM);
  for (unsigned i = 0; i < n; i++) fds[i] = -1;
  int rc = io_uring_register_files(&r->ring, fds, n);
  free(fds);
  return num(env, rc);
}

// ringUpdateFile(ring, slot, fd) -> 0 or -errno: puts fd in a fixed-file slot (-1 empties it).
static napi_value ring_update_file(napi_env env, napi_callback_info info) {
  RING_ARGS(3);
  int fd = arg_i32(env, argv[2]);
  int rc = io_uring_register_files_update(&r->ring, (unsigned)arg_i32(env, argv[1]), &fd, 1);
  return num(env, rc < 0 ? rc : 0);
}

// ringRegisterBuffers(ring, memory, count, size) -> 0 or -errno. The memory is a JS buffer the
// caller keeps alive for the ring's life (ArrayBuffer backing stores do not move).
static napi_value ring_register_buffers(napi_env env, napi_callback_info info) {
  RING_ARGS(4);
  void* mem;
  size_t len;
  arg_bytes(env, argv[1], &mem, &len);
  unsigned count = (unsigned)arg_i32(env, argv[2]);
  size_t size = (size_t)arg_i32(env, argv[3]);
  if (!mem || count * size > len) return num(env, -EINVAL);
  struct iovec* iov = calloc(count, sizeof *iov);
  if (!iov) return num(env, -ENOMEM);
  for (unsigned i = 0; i < count; i++) {
    iov[i].iov_base = (char*)mem + i * size;
    iov[i].iov_len = size;
  }
  int rc = io_uring_register_buffers(&r->ring, iov, count);
  free(iov);
  return num(env, rc);
}

// ringPrep(ring, kind, userData, fd, fixedFile, buf, len, arg, ioprio, aux) -> 0, or -EBUSY
// when the SQ is full. `kind` is the protocol's task kind (1..14):
//   2 TIMEOUT: buf is a 16-byte __kernel_timespec;  3 CANCEL: arg is the target's user_data;
//   6/7 FIXED: aux is the buffer index, buf lies in that registered buffer;
//   10 POLL: aux is the mask;  12 ACCEPT: buf holds len address bytes then a socklen_t at aux
//   (len 0: no address);  13 OPENAT: buf is the NUL-terminated path, aux the flags, len the mode.
// Memory passed in must stay alive until the completion: the caller holds it in its task.
static napi_value ring_prep(napi_env env, napi_callback_info info) {
  RING_ARGS(10);
  int kind = arg_i32(env, argv[1]);
  uint64_t ud = (uint64_t)arg_f64(env, argv[2]);
  int fd = arg_i32(env, argv[3]);
  bool fixed = false;
  napi_get_value_bool(env, argv[4], &fixed);
  void* buf;
  size_t blen;
  arg_bytes(env, argv[5], &buf, &blen);
  unsigned len = (unsigned)arg_f64(env, argv[6]);
  uint64_t arg = (uint64_t)arg_f64(env, argv[7]);
  int ioprio = arg_i32(env, argv[8]);
  int aux = arg_i32(env, argv[9]);
  struct io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
  if (!sqe) return num(env, -EBUSY);
  switch (kind) {
    case 1: io_uring_prep_nop(sqe); break;
    case 2: io_uring_prep_timeout(sqe, (struct __kernel_timespec*)buf, 0, 0); break;
    case 3: io_uring_prep_cancel64(sqe, arg, 0); break;
    case 4: case 8: io_uring_prep_read(sqe, fd, buf, len, arg); break;  // arg: offset (0 from the daemon)
    case 5: case 9: io_uring_prep_write(sqe, fd, buf, len, arg); break;
    case 6: io_uring_prep_read_fixed(sqe, fd, buf, len, 0, aux); break;
    case 7: io_uring_prep_write_fixed(sqe, fd, buf, len, 0, aux); break;
    case 10: io_uring_prep_poll_add(sqe, fd, (unsigned)aux); break;
    case 11: io_uring_prep_connect(sqe, fd, (struct sockaddr*)buf, len); break;
    case 12:
      io_uring_prep_accept(sqe, fd, len ? (struct sockaddr*)buf : NULL,
                           len ? (socklen_t*)((char*)buf + aux) : NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      break;
    case 13: io_uring_prep_openat(sqe, AT_FDCWD, (const char*)buf, aux, len); break;
    case 14: io_uring_prep_close(sqe, fd); break;
    default: io_uring_prep_nop(sqe); break;
  }
  if (fixed) sqe->flags |= IOSQE_FIXED_FILE;
  if (ioprio) sqe->ioprio = (unsigned short)ioprio;
  sqe->user_data = ud;
  return num(env, 0);
}

// ringSubmit(ring) -> SQEs submitted, or -errno.
static napi_value ring_submit(napi_env env, napi_callback_info info) {
  RING_ARGS(1);
  return num(env, io_uring_submit(&r->ring));
}

static void reap(ring_t* r) {
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global;
  napi_get_reference_value(env, r->cb, &cb);
  napi_get_global(env, &global);
  for (int rounds = 0; rounds < 64 && !r->closed; rounds++) {
    struct io_uring_cqe* cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&r->ring, head, cqe) {
      r->out[2 * n] = (double)cqe->user_data;
      r->out[2 * n + 1] = cqe->res;
      if (++n == MAX_REAP) break;
    }
    if (n == 0) break;
    io_uring_cq_advance(&r->ring, n);
    napi_value arg = num(env, n), result;
    if (napi_make_callback(env, NULL, global, cb, 1, &arg, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value e;
        napi_get_and_clear_last_exception(env, &e);
        napi_fatal_exception(env, e);
      }
      break;
    }
  }
  napi_close_handle_scope(env, scope);
}

static void ring_poll_cb(uv_poll_t* h, int status, int events) {
  (void)status;
  (void)events;
  ring_t* r = h->data;
  uint64_t v;
  if (read(r->efd, &v, sizeof v) < 0 && errno != EAGAIN) return;
  reap(r);
}

// ringStart(ring, out: Float64Array(512), cb(count)): completions arrive as cb(n) with n
// [user_data, res] pairs in out.
static napi_value ring_start(napi_env env, napi_callback_info info) {
  RING_ARGS(3);
  void* out;
  size_t olen;
  arg_bytes(env, argv[1], &out, &olen);
  if (r->started || olen < MAX_REAP * 2 * sizeof(double)) {
    napi_throw_error(env, NULL, "ringStart: already started, or out is not a Float64Array(512)");
    return NULL;
  }
  r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (r->efd < 0) return num(env, -errno);
  int rc = io_uring_register_eventfd(&r->ring, r->efd);
  if (rc < 0) {
    close(r->efd);
    r->efd = -1;
    return num(env, rc);
  }
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  r->env = env;
  r->out = out;
  CHECK(napi_create_reference(env, argv[1], 1, &r->out_ref));
  CHECK(napi_create_reference(env, argv[2], 1, &r->cb));
  uv_poll_init(loop, &r->poll, r->efd);
  r->poll.data = r;
  uv_poll_start(&r->poll, UV_READABLE, ring_poll_cb);
  r->started = 1;
  return num(env, 0);
}

// ringReap(ring): delivers whatever CQEs are ready now, without waiting for the eventfd.
static napi_value ring_reap(napi_env env, napi_callback_info info) {
  RING_ARGS(1);
  if (r->started) reap(r);
  return NULL;
}

static void ring_poll_closed(uv_handle_t* h) {
  ring_t* r = h->data;
  close(r->efd);
  free(r);
}

// ringClose(ring): tears the ring down; in-flight operations are abandoned.
static napi_value ring_close(napi_env env, napi_callback_info info) {
  RING_ARGS(1);
  r->closed = 1;
  io_uring_queue_exit(&r->ring);
  if (r->started) {
    napi_delete_reference(env, r->cb);
    napi_delete_reference(env, r->out_ref);
    uv_close((uv_handle_t*)&r->poll, ring_poll_closed);
  }
  // A ring never started is leaked on purpose (a few bytes): the external may still be referenced.
  return NULL;
}

// ---------------------------------------------------------------- module

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"listenUnix", NULL, listen_unix, NULL, NULL, NULL, napi_default, NULL},
    {"socketUnix", NULL, socket_unix, NULL, NULL, NULL, napi_default, NULL},
    {"acceptConn", NULL, accept_conn, NULL, NULL, NULL, napi_default, NULL},
    {"recvFds", NULL, recv_fds, NULL, NULL, NULL, napi_default, NULL},
    {"sendBytes", NULL, send_bytes, NULL, NULL, NULL, napi_default, NULL},
    {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
    {"unlinkPath", NULL, unlink_path, NULL, NULL, NULL, napi_default, NULL},
    {"strerror", NULL, str_error, NULL, NULL, NULL, napi_default, NULL},
    {"addressOf", NULL, address_of, NULL, NULL, NULL, napi_default, NULL},
    {"watch", NULL, watch, NULL, NULL, NULL, napi_default, NULL},
    {"watchSet", NULL, watch_set, NULL, NULL, NULL, napi_default, NULL},
    {"unwatch", NULL, unwatch, NULL, NULL, NULL, napi_default, NULL},
    {"ringCreate", NULL, ring_create, NULL, NULL, NULL, napi_default, NULL},
    {"ringRegisterFiles", NULL, ring_register_files, NULL, NULL, NULL, napi_default, NULL},
    {"ringUpdateFile", NULL, ring_update_file, NULL, NULL, NULL, napi_default, NULL},
    {"ringRegisterBuffers", NULL, ring_register_buffers, NULL, NULL, NULL, napi_default, NULL},
    {"ringPrep", NULL, ring_prep, NULL, NULL, NULL, napi_default, NULL},
    {"ringSubmit", NULL, ring_submit, NULL, NULL, NULL, napi_default, NULL},
    {"ringStart", NULL, ring_start, NULL, NULL, NULL, napi_default, NULL},
    {"ringReap", NULL, ring_reap, NULL, NULL, NULL, napi_default, NULL},
    {"ringClose", NULL, ring_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
