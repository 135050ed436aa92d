# Shared by matrix/run and matrix/test (sourced, not run): fetching Debian's
# kernels and building the initramfs that boots them with the host's root.
# Everything downloaded or built lives under $MATRIX_CACHE.

MATRIX_CACHE=${MATRIX_CACHE:-/var/cache/gotrace-matrix}
MATRIX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mx_die() { echo "matrix: $*" >&2; exit 2; }
mx_log() { [ -n "${MATRIX_QUIET:-}" ] || echo "matrix: $*" >&2; }

# mx_pattern KERNEL: the regular expression naming Debian's image packages of
# one kernel line. The newest match at fetch time is used: nothing is pinned
# to a version that the archive may drop.
mx_pattern() {
	case "$1" in
	5.10) echo '^linux-image-5\.10\.0-[0-9]+-amd64$' ;;
	6.1) echo '^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
	6.12) echo '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;
	*) mx_die "unknown kernel '$1' (known: 5.10 6.1 6.12)" ;;
	esac
}

# mx_mirror SUITE_KIND: the host's own Debian mirror (main or security), read
# from its apt sources, so the kernels come from where the host's packages do.
mx_mirror() {
	local kind=$1 uris
	uris=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' |
		tr ' ' '\n' | grep -E '^https?://' | grep -E '/debian(-security)?/?$' || true)
	if [ "$kind" = security ]; then
		echo "$uris" | grep -E 'debian-security/?$' | head -1 | grep . || echo http://deb.debian.org/debian-security
	else
		echo "$uris" | grep -vE 'debian-security/?$' | head -1 | grep . || echo http://deb.debian.org/debian
	fi
}

# mx_apt ARGS...: apt-get with a private sources list, state and cache, so the
# host's apt configuration and package lists are left as they are.
mx_apt() {
	local a=$MATRIX_CACHE/apt
	mkdir -p "$a/lists/partial" "$a/cache" "$a/archives/partial"
	if [ ! -s "$a/sources.list" ]; then
		local m s
		m=$(mx_mirror main) s=$(mx_mirror security)
		cat >"$a/sources.list" <<EOT
deb $m bookworm main
deb $s bookworm-security main
deb $m bullseye main
deb $s bullseye-security main
EOT
	fi
	"${MX_APT_TOOL:-apt-get}" -q -o Dir::Etc::sourcelist="$a/sources.list" -o Dir::Etc::sourceparts=/dev/null \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::Cache::archives="$a/archives" \
		-o APT::Sandbox::User=root "$@"
}

# mx_kernel KERNEL: makes sure the newest image package of KERNEL is downloaded,
# extracted and given an initramfs; sets MX_KDIR (the extracted package),
# MX_REL (its uname -r), MX_VMLINUZ and MX_INITRD. The package lists are
# refreshed when older than a day (MATRIX_REFRESH=1 forces it, =0 never).
mx_kernel() {
	local k=$1 pat lists=$MATRIX_CACHE/apt/lists stamp pkg
	pat=$(mx_pattern "$k")
	mkdir -p "$MATRIX_CACHE"
	# One fetch at a time: several checkouts may share the cache.
	exec 9>"$MATRIX_CACHE/.lock"
	flock 9
	stamp=$lists/.updated
	if [ "${MATRIX_REFRESH:-}" = 1 ] || { [ "${MATRIX_REFRESH:-}" != 0 ] && [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; }; then
		mx_log "updating the package lists of bookworm and bullseye"
		if mx_apt update >"$MATRIX_CACHE/apt-update.log" 2>&1; then
			touch "$stamp"
		elif [ -e "$stamp" ]; then
			mx_log "apt-get update failed (see $MATRIX_CACHE/apt-update.log); using the lists from before"
		else
			cat "$MATRIX_CACHE/apt-update.log" >&2
			mx_die "apt-get update failed"
		fi
	fi
	pkg=$(MX_APT_TOOL=apt-cache mx_apt pkgnames linux-image- | grep -E "$pat" | sort -V | tail -1)
	[ -n "$pkg" ] || mx_die "no package matches $pat"
	MX_KDIR=$MATRIX_CACHE/kernels/$pkg
	if [ ! -e "$MX_KDIR/.extracted" ]; then
		mx_log "downloading $pkg"
		local deb
		rm -rf "$MX_KDIR" && mkdir -p "$MX_KDIR"
		(cd "$MATRIX_CACHE/apt/archives" && mx_apt download "$pkg" >/dev/null) || mx_die "apt-get download $pkg failed"
		deb=$(ls -t "$MATRIX_CACHE/apt/archives/${pkg}_"*.deb | head -1)
		mx_log "extracting $(basename "$deb")"
		dpkg-deb -x "$deb" "$MX_KDIR" || mx_die "dpkg-deb -x $deb failed"
		rm -f "$deb" # the extracted tree is the cache; the .deb is not needed again
		touch "$MX_KDIR/.extracted"
	fi
	MX_REL=$(basename "$(ls -d "$MX_KDIR"/lib/modules/*/ | head -1)")
	MX_VMLINUZ=$MX_KDIR/boot/vmlinuz-$MX_REL
	MX_INITRD=$MX_KDIR/initrd.gz
	[ -e "$MX_VMLINUZ" ] || mx_die "no $MX_VMLINUZ"
	if [ ! -e "$MX_INITRD" ] || [ "$MX_INITRD" -ot "$MATRIX_DIR/init" ] || [ "$MX_INITRD" -ot "$MATRIX_DIR/lib.sh" ]; then
		mx_initrd
	fi
	exec 9>&-
}

# mx_modules MODDIR NAME...: NAME and everything it depends on, in load order
# (dependencies first), from modinfo -F depends; modules built into the kernel
# and missing ones are left out.
mx_modules() {
	local dir=$1 seen=" " order=()
	shift
	visit() {
		local n=${1//-/_} f d
		case "$seen" in *" $n "*) return ;; esac
		seen="$seen$n "
		f=$(find "$dir/kernel" -name "$n.ko" -o -name "$n.ko.xz" -o -name "$n.ko.zst" -o -name "$n.ko.gz" | head -1)
		if [ -z "$f" ]; then
			f=$(find "$dir/kernel" -name "${n//_/-}.ko*" | head -1)
		fi
		[ -n "$f" ] || return 0 # built in (modules.builtin) or not built at all
		for d in $(modinfo -F depends "$f" | tr ',' ' '); do visit "$d"; done
		order+=("$f")
	}
	for n in "$@"; do visit "$n"; done
	printf '%s\n' "${order[@]}"
}

# mx_initrd: the initramfs for MX_KDIR: busybox, the modules that reach the
# host's root over virtio-9p (and overlayfs to make it writable, virtio-rng
# for entropy, virtio-blk and ext4 for the scratch disk of /tmp), and
# matrix/init.
mx_initrd() {
	local tmp mod f base
	[ -x /bin/busybox ] || mx_die "busybox is missing (apt-get install busybox-static)"
	command -v modinfo >/dev/null || mx_die "modinfo is missing (apt-get install kmod)"
	command -v cpio >/dev/null || mx_die "cpio is missing (apt-get install cpio)"
	if ! busybox --list | grep -qx insmod || ldd /bin/busybox >/dev/null 2>&1; then
		mx_die "/bin/busybox is not the static one with insmod (apt-get install busybox-static)"
	fi
	tmp=$(mktemp -d)
	mkdir -p "$tmp"/{bin,dev,proc,sys,lib/modules,newroot,lower,rw,out}
	mknod "$tmp/dev/console" c 5 1
	cp /bin/busybox "$tmp/bin/busybox"
	ln -s busybox "$tmp/bin/sh"
	cp "$MATRIX_DIR/init" "$tmp/init"
	chmod +x "$tmp/init"
	: >"$tmp/lib/modules/order"
	for f in $(mx_modules "$MX_KDIR/lib/modules/$MX_REL" virtio_pci 9pnet_virtio 9p overlay virtio_rng virtio_blk crc32c_generic ext4); do
		base=$(basename "$f")
		case "$f" in
		*.xz) xz -dc "$f" >"$tmp/lib/modules/${base%.xz}" ;;
		*.zst) zstd -qdc "$f" >"$tmp/lib/modules/${base%.zst}" ;;
		*.gz) gzip -dc "$f" >"$tmp/lib/modules/${base%.gz}" ;;
		*) cp "$f" "$tmp/lib/modules/$base" ;;
		esac
		base=${base%.xz} base=${base%.zst} base=${base%.gz}
		echo "$base" >>"$tmp/lib/modules/order"
	done
	echo "$MX_REL" >"$tmp/release"
	mx_log "initramfs for $MX_REL: $(sed 's/\.ko$//' "$tmp/lib/modules/order" | tr '\n' ' ')"
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$MX_INITRD.tmp" || mx_die "cannot write $MX_INITRD"
	mv "$MX_INITRD.tmp" "$MX_INITRD"
	rm -rf "$tmp"
}
