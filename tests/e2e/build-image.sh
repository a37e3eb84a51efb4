#!/usr/bin/env bash
# Builds the e2e guest: Debian's kernel and an uncompressed initramfs holding
# busybox, kmod, the Bluetooth and crypto modules, dbus-daemon, btvirt and
# bluetoothd, all taken from this machine's Debian packages.
#
#   build-image.sh OUTDIR [BLUEZ]
#
# BLUEZ is the bluetoothd the guest runs: 5.66 (the default, this machine's
# Debian 12 package) or 5.82 (Debian 13 trixie's, see bluez_582 below).
# Everything else is the same in both: bookworm's 6.1 kernel, busybox,
# dbus-daemon.
#
# Writes OUTDIR/vmlinuz and OUTDIR/base.cpio. The image is rebuilt only when
# its inputs change: this script, init.sh, the kernel package that
# linux-image-amd64 points at, the BlueZ version and the versions of the
# packages whose files go into the image. OUTDIR/inputs records what the
# last build used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:?usage: build-image.sh OUTDIR [5.66|5.82]}
bluez=${2:-5.66}
case $bluez in
  5.66|5.82) ;;
  *) echo "build-image: BlueZ $bluez is not offered (5.66 or 5.82)" >&2; exit 2 ;;
esac
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

# trixie's BlueZ, its C library and GLib: the binaries need glibc 2.38 and
# GLib 2.76 symbols that bookworm lacks (checked with LD_BIND_NOW against
# bookworm's other libraries: libdbus, libudev, libdw... are enough). They
# come from a private apt configuration under OUTDIR/apt-trixie, so the
# machine's own apt state is never touched, and go into a prefix of their
# own in the guest (/opt/bluez-5.82/lib); the binaries' interpreter and
# runpath point there (patchelf), so bookworm's libc stays the guest's libc
# for everything else (dbus-daemon, the test programs).
trixie_pkgs="bluez bluez-test-tools libc6 libglib2.0-0t64"
trixie_prefix=/opt/bluez-5.82
aptdir=$outdir/apt-trixie
trixie_apt() { # apt-get or apt-cache, then its arguments
  local tool=$1
  shift
  "$tool" -q -o Dir::Etc::sourcelist="$aptdir/sources.list" \
    -o Dir::Etc::sourceparts=- -o Dir::State="$aptdir/state" \
    -o Dir::State::status="$aptdir/state/status" -o Dir::Cache="$aptdir/cache" \
    -o APT::Architectures=amd64 -o APT::Sandbox::User=root \
    -o Debug::NoLocking=1 "$@"
}
trixie_versions=
if [ "$bluez" = 5.82 ]; then
  command -v patchelf >/dev/null || die "'patchelf' is missing (see .ci/packages)"
  mkdir -p "$aptdir/state/lists/partial" "$aptdir/cache/archives/partial"
  : > "$aptdir/state/status.new" && mv "$aptdir/state/status.new" "$aptdir/state/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    > "$aptdir/sources.list"
  # The package lists are fetched once a day at most: the cache check below
  # needs the candidate versions, and a boot should not wait on the network.
  if [ -z "$(find "$aptdir/state/lists" -name '*trixie*Packages*' -mtime -1 -print -quit)" ]; then
    echo "build-image: fetching trixie's package lists into $aptdir"
    trixie_apt apt-get update >/dev/null \
      || die "apt-get update of trixie main failed: this machine's registry must serve the trixie suite for BlueZ 5.82"
  fi
  for p in $trixie_pkgs; do
    v=$(trixie_apt apt-cache policy "$p" | sed -n 's/^ *Candidate: //p')
    [ -n "$v" ] && [ "$v" != "(none)" ] \
      || die "trixie's $p cannot be found in $aptdir's lists (is trixie main served here?)"
    case $p in bluez) case $v in 5.82-*) ;; *) die "trixie's bluez is $v, not 5.82" ;; esac ;; esac
    trixie_versions="$trixie_versions$p $v (trixie)"$'\n'
  done
fi

pkg_versions=$(dpkg-query -W -f '${Package} ${Version}\n' \
                 bluez bluez-test-tools dbus-daemon dbus-system-bus-common \
                 busybox-static kmod libc6 libglib2.0-0 2>/dev/null | sort)

inputs=$(
  printf 'bluez %s\n' "$bluez"
  printf 'kernel %s %s\n' "$kpkg" "$kpkg_version"
  printf '%s' "$trixie_versions"
  printf '%s\n' "$pkg_versions"
  sha256sum "$here/build-image.sh" "$here/init.sh" "$here/restart-bluetoothd.sh" | cut -d' ' -f1
)

if [ -f "$outdir/inputs" ] && [ -f "$outdir/vmlinuz" ] && [ -f "$outdir/base.cpio" ] \
   && [ "$(cat "$outdir/inputs")" = "$inputs" ]; then
  echo "build-image: $outdir is up to date ($kpkg, BlueZ $bluez)"
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

# 3b. BlueZ 5.82: trixie's binaries replace bookworm's at the same paths
#     (init.sh and restart-bluetoothd.sh stay the same), with their own
#     loader, libc and GLib under $trixie_prefix/lib.
if [ "$bluez" = 5.82 ]; then
  for p in $trixie_pkgs; do
    deb=$(find "$debdir" -name "${p}_*.deb" -print -quit)
    if [ -z "$deb" ] || ! printf '%s' "$trixie_versions" | grep -qF "$p $(dpkg-deb -f "$deb" Version) "; then
      rm -f "$debdir/${p}"_*.deb
      echo "build-image: downloading trixie's $p"
      (cd "$debdir" && trixie_apt apt-get download "$p" >/dev/null 2>&1) \
        || die "apt-get download of trixie's $p failed (is trixie main served here?)"
      deb=$(find "$debdir" -name "${p}_*.deb" -print -quit)
      [ -n "$deb" ] || die "apt-get download left no ${p}_*.deb in $debdir"
    fi
  done
  trixie=$outdir/trixie-root
  rm -rf "$trixie"
  mkdir -p "$trixie"
  for p in $trixie_pkgs; do
    dpkg-deb -x "$(find "$debdir" -name "${p}_*.deb" -print -quit)" "$trixie"
  done
  tlib=$trixie/usr/lib/x86_64-linux-gnu
  mkdir -p "$root$trixie_prefix/lib"
  cp -L "$trixie/usr/lib64/ld-linux-x86-64.so.2" "$root$trixie_prefix/lib/"
  for lib in libc.so.6 libm.so.6 libglib-2.0.so.0; do
    cp -L "$tlib/$lib" "$root$trixie_prefix/lib/"
  done
  for bin in /usr/libexec/bluetooth/bluetoothd /usr/bin/btvirt /usr/bin/btmon /usr/bin/btmgmt; do
    cp -L --preserve=mode "$trixie$bin" "$root$bin"
    # A runpath, not an rpath: --library-path below must come first when
    # the binary is checked on this machine, where the prefix is not.
    patchelf --set-interpreter "$trixie_prefix/lib/ld-linux-x86-64.so.2" \
      --set-rpath "$trixie_prefix/lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \
      "$root$bin"
    # Every symbol must resolve now, with the prefix first and this
    # machine's (bookworm's) libraries for the rest; the other libraries
    # the binary needs are copied from here, as for 5.66.
    LD_BIND_NOW=1 "$root$trixie_prefix/lib/ld-linux-x86-64.so.2" \
      --library-path "$root$trixie_prefix/lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \
      "$root$bin" --version >/dev/null 2>&1 \
      || die "trixie's $bin does not run with bookworm's libraries besides its own libc and GLib"
    "$root$trixie_prefix/lib/ld-linux-x86-64.so.2" \
      --library-path "$root$trixie_prefix/lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \
      --list "$root$bin" | awk '/=> \//{print $3}' | while read -r lib; do
        case $lib in "$root"*) continue ;; esac
        [ -e "$root$lib" ] || copy_file "$lib"
      done
  done
  # bluez's own D-Bus policy for its daemon (step 4 keeps it).
  copy_policy=$trixie/usr/share/dbus-1/system.d/bluetooth.conf
  [ -f "$copy_policy" ] || die "trixie's bluez has no D-Bus policy bluetooth.conf"
  mkdir -p "$root/etc/dbus-1/system.d"
  cp "$copy_policy" "$root/etc/dbus-1/system.d/bluetooth.conf"
  rm -rf "$trixie"
  guest_bluez=$("$root$trixie_prefix/lib/ld-linux-x86-64.so.2" \
                  --library-path "$root$trixie_prefix/lib" \
                  "$root/usr/libexec/bluetooth/bluetoothd" --version)
else
  guest_bluez=$("$root/usr/libexec/bluetooth/bluetoothd" --version)
fi
[ "$guest_bluez" = "$bluez" ] || die "the image's bluetoothd is $guest_bluez, not $bluez"

# 4. Configuration: the system bus runs as root, so its <user> line goes;
#    bluetoothd's own policy file comes along unchanged.
mkdir -p "$root/usr/share/dbus-1" "$root/etc/dbus-1/system.d" "$root/etc/bluetooth"
grep -v '<user>' /usr/share/dbus-1/system.conf > "$root/usr/share/dbus-1/system.conf"
for f in /etc/dbus-1/system.d/bluetooth.conf /usr/share/dbus-1/system.d/bluetooth.conf; do
  [ -f "$root/etc/dbus-1/system.d/bluetooth.conf" ] && break
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
