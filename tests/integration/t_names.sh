#!/bin/bash
# t_names.sh - blob names with spaces, unicode and URL-special characters
# (% # ? + & = ; ' " [ ] ~ , @ $ *) are each listed exactly once and read
# back the right blob. Every blob holds its own name, so a name that is
# encoded wrongly (decoded twice, not escaped, cut at '?' or '#') reads a
# different blob, or none.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
names=(
	"with space.txt"
	"  leading and trailing spaces  "
	"unicodé-日本語-😀.txt"
	"percent%20literal.txt"
	"100%.txt"
	"a%2Fb.txt"
	"%41%"
	"hash#tag.txt"
	"question?.txt"
	"plus+sign.txt"
	"amp&and.txt"
	"eq=ual.txt"
	"semi;colon.txt"
	"quote'single.txt"
	'quote"double.txt'
	"brackets[1](2){3}.txt"
	"tilde~comma,at@dollar\$star*.txt"
	"-leading-dash"
	"dir with space/inner file.txt"
	"ñ/ø.txt"
	"q?dir/h#sub/+&=%.txt"
)
for i in "${!names[@]}"; do
	printf '%s\n' "${names[i]}" >"$TMPD/content.$i"
	seed_add "$C" "${names[i]}" "$TMPD/content.$i"
done
seed_flush

mount_fs "$C" || bail "mount $C"

# Lookups first, before any listing has filled a cache: each name is looked
# up (and its blob fetched) by its own path.
for n in "${names[@]}"; do
	check_eq "cat '$n' (lookup without a listing) reads its own blob" "$n" "$(cat -- "$MNT/$n")"
done

sdk_top=$(blobtool list "$C" --delimiter / --lines | sed 's|/$||' | LC_ALL=C sort) || bail "list through the SDK"
check_eq "the root lists each top-level name once, as the SDK does" "$sdk_top" "$(listing "$MNT")"
check_eq "'dir with space' lists its file once" "inner file.txt" "$(listing "$MNT/dir with space")"
check_eq "'ñ' lists 'ø.txt' once" "ø.txt" "$(listing "$MNT/ñ")"
check_eq "'q?dir' lists 'h#sub' once" "h#sub" "$(listing "$MNT/q?dir")"
check_eq "'q?dir/h#sub' lists '+&=%.txt' once" "+&=%.txt" "$(listing "$MNT/q?dir/h#sub")"
check_eq "find lists exactly the blobs" \
	"$(printf '%s\n' "${names[@]}" | LC_ALL=C sort)" \
	"$(cd "$MNT" && find . -type f -printf '%P\n' | LC_ALL=C sort)"

# After the listing (attributes may now come from it) the bytes still match.
for n in "${names[@]}"; do
	check_eq "size of '$n' after listing equals the blob's" \
		"$(blobtool props "$C" "$n" | json_get size)" "$(stat -c %s -- "$MNT/$n")"
done
check_eq "'a%2Fb.txt' is one file, not a path a/b.txt" "regular file" "$(stat -c %F -- "$MNT/a%2Fb.txt")"
check_fail_errno "'a' (from a decoded %2F) does not exist" ENOENT stat -- "$MNT/a"
check_fail_errno "'percent literal.txt' (a decoded %20) does not exist" ENOENT stat -- "$MNT/percent literal.txt"
check_fail_errno "'hash' (a name cut at #) does not exist" ENOENT stat -- "$MNT/hash"
check_fail_errno "'question' (a name cut at ?) does not exist" ENOENT stat -- "$MNT/question"

unmount_fs
done_testing
