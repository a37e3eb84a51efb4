#!/usr/bin/env bash
# Builds the e2e guest: Debian's kernel and an uncompressed initramfs holding
# busybox, kmod, the Bluetooth and crypto modules, dbus-daemon, btvirt and
# bluetoothd, all taken from this machine's Debian packages.
#
#   build-image.sh OUTDIR
#
# Writes OUTDIR/vmlinuz and OUTDIR/base.cpio. The image is rebuilt only when
# its inputs change: this script, init.sh, the kernel package that
# linux-image-amd64 points at, and the versions of the packages whose files
# go into the image. OUTDIR/inputs records what the last build used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:?usage: build-image.sh OUTDIR}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

die() {
  echo "build-image: $*" >&2
  exit 1
}

for tool in apt-cache apt-get dpkg-deb dpkg-query cpio depmod ldd sha256sum; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (see .ci/packages)"
done

# The guest's programs, as paths on this machine.
busybox=/bin/busybox
kmod=/bin/kmod
dbus_daemon=/usr/bin/dbus-daemon
btvirt=/usr/bin/btvirt
bluetoothd=/usr/libexec/bluetooth/bluetoothd
for f in "$busybox" "$kmod" "$dbus_daemon" "$btvirt" "$bluetoothd"; do
  [ -x "$f" ] || die "$f is missing: install the packages in .ci/packages (busybox-static, kmod, dbus-daemon, bluez-test-tools, bluez)"
done
# busybox must not need a dynamic loader inside the guest.
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked: install busybox-static"
fi

# Resolve the kernel package the way the linux-image-amd64 metapackage does.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
         | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 (run apt-get update)"
kver=${kpkg#linux-image-}
kpkg_version=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')

pkg_versions=$(dpkg-query -W -f '${Package} ${Version}\n' \
                 bluez bluez-test-tools dbus-daemon dbus-system-bus-common \
                 busybox-static kmod libc6 libglib2.0-0 2>/dev/null | sort)

inputs=$(
  printf 'kernel %s %s\n' "$kpkg" "$kpkg_version"
  printf '%s\n' "$pkg_versions"
  sha256sum "$here/build-image.sh" "$here/init.sh" "$here/restart-bluetoothd.sh" | cut -d' ' -f1
)

if [ -f "$outdir/inputs" ] && [ -f "$outdir/vmlinuz" ] && [ -f "$outdir/base.cpio" ] \
   && [ "$(cat "$outdir/inputs")" = "$inputs" ]; then
  echo "build-image: $outdir is up to date ($kpkg)"
  exit 0
fi

start=$(date +%s.%N)
rm -f "$outdir/inputs" "$outdir/vmlinuz" "$outdir/base.cpio"

# 1. The kernel package, downloaded once per version into OUTDIR.
debdir=$outdir/debs
mkdir -p "$debdir"
deb=$(find "$debdir" -name "${kpkg}_*.deb" -print -quit)
if [ -z "$deb" ]; then
  echo "build-image: downloading $kpkg $kpkg_version"
  # apt's sandbox user cannot write into a build directory: say so plainly.
  (cd "$debdir" && apt-get -q -o APT::Sandbox::User=root download "$kpkg" >/dev/null) \
    || die "apt-get download $kpkg failed"
  deb=$(find "$debdir" -name "${kpkg}_*.deb" -print -quit)
  [ -n "$deb" ] || die "apt-get download left no ${kpkg}_*.deb in $debdir"
fi

root=$outdir/root
rm -rf "$root"
mkdir -p "$root"

# 2. vmlinuz and only the modules the Bluetooth stack needs.
moddir=lib/modules/$kver
echo "build-image: unpacking $(basename "$deb")"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" --wildcards \
  "./boot/vmlinuz-$kver" \
  "./$moddir/modules.order" \
  "./$moddir/modules.builtin" \
  "./$moddir/modules.builtin.modinfo" \
  "./$moddir/kernel/net/bluetooth/*" \
  "./$moddir/kernel/net/rfkill/*" \
  "./$moddir/kernel/drivers/bluetooth/hci_vhci.ko" \
  "./$moddir/kernel/crypto/*" \
  "./$moddir/kernel/lib/crypto/*" \
  "./$moddir/kernel/lib/crc16.ko"
mv "$root/boot/vmlinuz-$kver" "$outdir/vmlinuz.new"
rm -rf "$root/boot"
depmod -b "$root" "$kver"
# Every module init.sh loads must resolve with its dependencies.
for m in hci_vhci bluetooth af_alg algif_skcipher algif_hash ecb cmac \
         jitterentropy_rng drbg sha512_generic ecdh_generic; do
  modprobe -d "$root" -S "$kver" --show-depends "$m" >/dev/null \
    || die "module $m or one of its dependencies is not in the image"
done

# 3. Programs, their shared libraries and the loader.
copy_file() { # SRC [DEST-IN-ROOT]
  local dest=$root${2:-$1}
  mkdir -p "$(dirname "$dest")"
  cp -L --preserve=mode "$1" "$dest"
}
copy_with_libs() { # BINARY [DEST-IN-ROOT]
  copy_file "$1" "${2:-$1}"
  ldd "$1" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | while read -r lib; do
    [ -e "$root$lib" ] || copy_file "$lib"
  done
}

copy_file "$busybox" /bin/busybox
for applet in $("$busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
mkdir -p "$root/sbin"
copy_with_libs "$kmod" /bin/kmod
for tool in modprobe insmod rmmod lsmod depmod modinfo; do
  rm -f "$root/bin/$tool"
  ln -sf ../bin/kmod "$root/sbin/$tool"
done
copy_with_libs "$dbus_daemon"
copy_with_libs "$btvirt"
copy_with_libs "$bluetoothd"
# For debugging only: init.sh traces HCI with it when BLEIO_E2E_BTMON=1.
copy_with_libs /usr/bin/btmon
copy_with_libs /usr/bin/btmgmt
# BlueZ's own client, for test-peripheral-advertise (bluez package).
copy_with_libs /usr/bin/bluetoothctl

# 4. Configuration: the system bus runs as root, so its <user> line goes;
#    bluetoothd's own policy file comes along unchanged.
mkdir -p "$root/usr/share/dbus-1" "$root/etc/dbus-1/system.d" "$root/etc/bluetooth"
grep -v '<user>' /usr/share/dbus-1/system.conf > "$root/usr/share/dbus-1/system.conf"
for f in /etc/dbus-1/system.d/bluetooth.conf /usr/share/dbus-1/system.d/bluetooth.conf; do
  [ -f "$f" ] && copy_file "$f" /etc/dbus-1/system.d/bluetooth.conf
done
[ -f "$root/etc/dbus-1/system.d/bluetooth.conf" ] || die "bluez's D-Bus policy bluetooth.conf not found"
[ -f /etc/bluetooth/main.conf ] && copy_file /etc/bluetooth/main.conf
printf 'root:x:0:0:root:/root:/bin/sh\nmessagebus:x:100:101::/nonexistent:/bin/false\n' \
  > "$root/etc/passwd"
printf 'root:x:0:\nmessagebus:x:101:\nbluetooth:x:102:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\n' > "$root/etc/nsswitch.conf"
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/run" \
         "$root/var/lib/bluetooth" "$root/root"
ln -s ../run "$root/var/run"
install -m 0755 "$here/init.sh" "$root/init"
install -m 0755 "$here/restart-bluetoothd.sh" "$root/bin/e2e-restart-bluetoothd"

# 5. The archive: newc, uncompressed (it boots faster than a gzipped one).
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
  > "$outdir/base.cpio.new"
rm -rf "$root"
mv "$outdir/vmlinuz.new" "$outdir/vmlinuz"
mv "$outdir/base.cpio.new" "$outdir/base.cpio"
printf '%s\n' "$inputs" > "$outdir/inputs"
end=$(date +%s.%N)
awk -v f="$outdir/base.cpio" -v size="$(stat -c %s "$outdir/base.cpio")" \
    -v t0="$start" -v t1="$end" \
    'BEGIN { printf "build-image: built %s (%.1f MiB) in %.1f s\n", f, size / 1048576, t1 - t0 }'
