/*
 * check_main.h - the shared main() of every Check test binary.
 *
 * Runs one suite and prints a machine-readable last line,
 * "checks: run=N passed=P failed=F", that scripts/test.sh sums.
 */
#ifndef AZBLOBFS_CHECK_MAIN_H
#define AZBLOBFS_CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK_MAIN(suite_fn)                                                                       \
	int main(void)                                                                             \
	{                                                                                          \
		SRunner *sr = srunner_create(suite_fn());                                          \
		int run, failed;                                                                   \
		srunner_run_all(sr, CK_NORMAL);                                                    \
		run = srunner_ntests_run(sr);                                                      \
		failed = srunner_ntests_failed(sr);                                                \
		srunner_free(sr);                                                                  \
		printf("checks: run=%d passed=%d failed=%d\n", run, run - failed, failed);         \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                       \
	}

/* Path of a fixture under tests/data (TEST_DATA_DIR is set by meson). */
#define TEST_DATA(name) TEST_DATA_DIR "/" name

#endif
