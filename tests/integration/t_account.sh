#!/bin/bash
# t_account.sh - SOURCE "account/" mounts the whole account: the containers
# are the top-level directories (the same set as the SDK lists), and their
# blobs read through them.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
C2=$(new_container second) || bail "create a second container"
printf 'top\n' >"$TMPD/top"
printf 'inner\n' >"$TMPD/inner"
seed_add "$C" top.txt "$TMPD/top"
seed_add "$C2" sub/inner.txt "$TMPD/inner"
seed_flush

mount_fs "$AZ_ACCOUNT/" || bail "mount $AZ_ACCOUNT/"

sdk=$(blobtool containers | json_lines | LC_ALL=C sort) || bail "list containers through the SDK"
check_eq "the root lists exactly the account's containers" "$sdk" "$(listing "$MNT")"
check_eq "container $C is a directory" directory "$(stat -c %F -- "$MNT/$C")"
check_eq "container $C2 is a directory" directory "$(stat -c %F -- "$MNT/$C2")"
check_eq "$C lists its blob" top.txt "$(listing "$MNT/$C")"
check_eq "$C2 lists its virtual folder" sub "$(listing "$MNT/$C2")"
check_eq "$C2/sub lists its blob" inner.txt "$(listing "$MNT/$C2/sub")"
check_eq "a blob reads through its container directory" top "$(cat "$MNT/$C/top.txt")"
check_eq "a nested blob reads through its container directory" inner "$(cat "$MNT/$C2/sub/inner.txt")"
check_eq "size of a blob in a container" 6 "$(stat -c %s -- "$MNT/$C2/sub/inner.txt")"
check_fail_errno "a container that does not exist gives ENOENT" ENOENT stat -- "$MNT/no-such-container-$RANDOM"

unmount_fs
done_testing
