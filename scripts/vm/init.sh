#!/bin/busybox sh
# /init of the test VM's initramfs (built by scripts/vm/mkinitramfs.sh). Mounts what
# BPF and sched_ext tests need, runs /tests/list.sh (one `run_test NAME CMD...` per
# binary), prints result markers that scripts/vm/run.sh parses, and powers off.
# Markers start a line with "GTHULHU-VM:" so kernel chatter cannot be mistaken for them.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/tests HOME=/root

mount -t devtmpfs dev /dev
# The kernel found no /dev/console in the archive, so connect to it now.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ln -s /proc/self/fd /dev/fd
echo 1 > /proc/sys/kernel/printk_devkmsg 2>/dev/null

uptime_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }

failed=0
# run_test NAME CMD [ARGS...]: the command's output goes through a pipe (as on the
# host, a plain redirect to the serial console can lose output); its status through a file.
run_test() {
  name=$1; shift
  echo "GTHULHU-VM: BEGIN $name"
  start=$(uptime_cs)
  { (cd /tmp && "$@"); echo $? > /tmp/.rc; } 2>&1 | cat
  rc=$(cat /tmp/.rc)
  end=$(uptime_cs)
  case $rc in
    0|77) ;;   # passed, skipped
    *) failed=$((failed + 1))
       # Kernel messages explain most failures (verifier errors, scheduler exits).
       echo "GTHULHU-VM: dmesg tail after $name:"; dmesg | tail -40 ;;
  esac
  cs=$((end - start))
  echo "GTHULHU-VM: END $name rc=$rc time=$(printf '%d.%02d' $((cs / 100)) $((cs % 100)))s"
}

echo "GTHULHU-VM: BOOTED $(uname -r) cpus=$(nproc) sched_ext=$(cat /sys/kernel/sched_ext/state 2>/dev/null || echo absent)"
. /tests/list.sh
echo "GTHULHU-VM: DONE failed=$failed"
sync
poweroff -f
# Not reached; if it were, init exiting panics the kernel, and panic=-1 plus
# QEMU's -no-reboot end the VM anyway.
