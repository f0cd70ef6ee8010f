// What runs in the guest: /init (mounts, modules, the network, the virtio ports, then the script)
// and the shell functions given to the script (mount9p, styxlab_modprobe); see test/support/linuxvm.ts.

/** Name of the virtio-serial port of a 9P channel. */
export function channelName(i: number): string {
  return i === 0 ? 'p9' : `p9-${i}`;
}

// Shell functions given to the guest script; see the comment at the top of test/support/linuxvm.ts.
export const PRELUDE = `
styxlab_port() {
  for _sp in /sys/class/virtio-ports/*; do
    if [ "$(cat "$_sp/name" 2>/dev/null)" = "$1" ]; then echo "/dev/\${_sp##*/}"; return 0; fi
  done
  return 1
}

styxlab_modprobe() {
  if [ ! -f "/etc/styxlab-modprobe/$1" ]; then echo "styxlab_modprobe: $1 is not an on-demand module" >&2; return 1; fi
  while read -r _m; do
    [ -d "/sys/module/\${_m%.ko}" ] || insmod "/lib/styxlab-modules/$_m" || return 1
  done < "/etc/styxlab-modprobe/$1"
}

mount9p() {
  _ch=0
  if [ "$1" = -c ]; then _ch=$2; shift 2; fi
  if [ $# -lt 1 ]; then echo 'usage: mount9p [-c CHANNEL] MOUNTPOINT [OPTION...]' >&2; return 2; fi
  _mp=$1; shift
  if [ "$_ch" = 0 ]; then _name=p9; else _name=p9-$_ch; fi
  _dev=$(styxlab_port "$_name") || { echo "mount9p: no virtio port $_name (channel $_ch)" >&2; return 1; }
  _fifo=/tmp/styxlab-9p-$_ch
  if [ -e "$_fifo" ]; then echo "mount9p: channel $_ch is already in use (one mount per channel)" >&2; return 1; fi
  mkdir -p "$_fifo" "$_mp" && mkfifo "$_fifo/in" "$_fifo/out" || return 1
  # virtio_console lets a port be open only once, so one open (fd 5, read-write) is shared by both
  # relays; the subshell exits at once, leaving the two cats in the background.
  ( cat <&5 >"$_fifo/in" & cat <"$_fifo/out" >&5 & ) 5<>"$_dev"
  _opts=trans=fd,rfdno=3,wfdno=4
  for _o in "$@"; do _opts=$_opts,$_o; done
  # Opening a fifo blocks until its other end is opened; each relay opens its end on its own, so
  # these opens meet them in any order. mount hands the descriptors to the kernel, which keeps its
  # own references: they need not stay open here after mount returns.
  mount -t 9p -o "$_opts" none "$_mp" 3<"$_fifo/in" 4>"$_fifo/out"
}
`;

export function initScript(channels: number, guestTimeoutSec: number, net: boolean): string {
  const names = ['out', ...Array.from({ length: channels }, (_, i) => channelName(i))];
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
fail() { echo; echo "===STYXLAB-FAIL $*==="; sync; poweroff -f; sleep 5; }
# Ends the VM even if the host process that started it is gone.
( sleep ${guestTimeoutSec}; fail "guest watchdog after ${guestTimeoutSec} s" ) &
while read -r m; do
  insmod "/lib/styxlab-modules/$m" || fail "insmod $m"
done < /etc/styxlab-modules
. /etc/styxlab.sh
${net ? `styxlab_modprobe virtio_net || fail "insmod virtio_net"
ifconfig lo 127.0.0.1 up
_n=0
until ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up 2>/dev/null; do
  _n=$((_n + 1))
  [ $_n -le 600 ] || fail "eth0 did not appear"
  sleep 0.05
done
route add default gw 10.0.2.2 || fail "route"
` : ''}# virtio-serial ports appear when the device announces them, after the driver has loaded.
_n=0
for _name in ${names.join(' ')}; do
  while ! _p=$(styxlab_port "$_name") || [ ! -c "$_p" ]; do
    _n=$((_n + 1))
    [ $_n -le 600 ] || fail "virtio port $_name did not appear"
    sleep 0.05
  done
done
_out=$(styxlab_port out)
echo "===STYXLAB-BEGIN==="
cd /
sh -c '. /etc/styxlab.sh; . /styxlab-test.sh' </dev/null >"$_out" 2>&1
_code=$?
sync
echo
echo "===STYXLAB-EXIT $_code==="
poweroff -f
sleep 5
`;
}
