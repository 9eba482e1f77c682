#!/bin/bash
# scripts/check-layers.sh [BUILD_DIR] - check the module arrows with nm.
#
# Reads the global symbols each module's archive defines and those it
# leaves undefined (build/src/<dir>/lib<name>.a; main is the executable's
# own object), keeps only the undefined symbols that one of our archives
# defines (libc, libcurl, OpenSSL, libxml2, libfuse and Check drop out that
# way), and derives module -> module edges. Prints the graph, one line per
# module ("engine -> azure cache net util"), then every edge that is not on
# the allowed list below, and exits non-zero when there is one.
#
# The static libraries do not enforce this by themselves: an executable
# links them all in one group, so an upward call links without complaint.
set -uo pipefail

BUILD=${1:-build}

# module name, archive (relative to BUILD)
MODULES=(util net azure cache engine fs fuse main)
declare -A ARCHIVE=(
	[util]=src/util/libutil.a
	[net]=src/net/libnet.a
	[azure]=src/azure/libazure.a
	[cache]=src/cache/libcache.a
	[engine]=src/engine/libengine.a
	[fs]=src/fs/libfs.a
	[fuse]=src/fuse/libfuseops.a
	[main]=azblobfs.p/src_main.c.o
)
# What each module may use (DESIGN.md, "Module arrows"); main wires everything.
declare -A ALLOWED=(
	[util]=""
	[net]="util"
	[azure]="util"
	[cache]="util"
	[engine]="net azure cache util"
	[fs]="engine cache util"
	[fuse]="fs util"
	[main]="*"
)

command -v nm >/dev/null || { echo "check-layers: nm not found" >&2; exit 2; }

declare -A OWNER # symbol -> module that defines it
declare -A UNDEF # module -> its undefined symbols (newline-separated)
for m in "${MODULES[@]}"; do
	f=$BUILD/${ARCHIVE[$m]}
	if [[ ! -f $f ]]; then
		echo "check-layers: '$f' not found (build first)" >&2
		exit 2
	fi
	# "-P" lines: name type value size; weak and common symbols count as defined.
	while read -r sym type _; do
		case $type in
		U | w | v) ;;
		*) OWNER[$sym]=$m ;;
		esac
	done < <(nm -g -P "$f" 2>/dev/null | grep -v ':$')
	UNDEF[$m]=$(nm -g -P -u "$f" 2>/dev/null | grep -v ':$' | awk '{ print $1 }' | sort -u)
done

bad=0
declare -a VIOLATIONS=()
for m in "${MODULES[@]}"; do
	declare -A seen=()
	while read -r sym; do
		[[ -n $sym ]] || continue
		o=${OWNER[$sym]:-}
		[[ -n $o && $o != "$m" ]] || continue
		if [[ -z ${seen[$o]:-} ]]; then
			seen[$o]=$sym
		fi
	done <<<"${UNDEF[$m]}"
	deps=$(printf '%s\n' "${!seen[@]}" | grep -v '^$' | sort | tr '\n' ' ')
	echo "$m -> ${deps% }"
	for o in "${!seen[@]}"; do
		allowed=" ${ALLOWED[$m]} "
		if [[ $allowed != " * " && $allowed != *" $o "* ]]; then
			VIOLATIONS+=("$m -> $o (e.g. $m uses ${seen[$o]})")
			bad=1
		fi
	done
	unset seen
done

if ((bad)); then
	printf "%s\n" "${VIOLATIONS[@]}" | sort | while read -r v; do
		echo "check-layers: edge not allowed: $v"
	done
	exit 1
fi
echo "check-layers: all edges allowed"
