/*
 * check_blocks.c - the block size policy of streamed uploads.
 */
#include "azblobfs/common.h"
#include "azblobfs/engine.h"
#include "check_main.h"

#define MAX_BLOCKS 50000

/* What 50,000 blocks of the policy hold. */
static uint64_t capacity(const struct eng_config *cfg)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < MAX_BLOCKS; i++)
		total += eng_block_size(cfg, i);
	return total;
}

START_TEST(test_blocks_part_size_first_then_growing_never_shrinking)
{
	struct eng_config cfg;

	eng_config_defaults(&cfg);
	cfg.part_size = 8 * MIB;
	cfg.mem_budget = 256 * MIB;
	ck_assert_uint_eq(eng_block_size(&cfg, 0), 8 * MIB);
	ck_assert_uint_eq(eng_block_size(&cfg, 19999), 8 * MIB);
	ck_assert_uint_eq(eng_block_size(&cfg, 20000), 16 * MIB);
	ck_assert_uint_eq(eng_block_size(&cfg, 22499), 16 * MIB);
	ck_assert_uint_eq(eng_block_size(&cfg, 22500), 32 * MIB);
	ck_assert_uint_eq(eng_block_size(&cfg, 49999), 128 * MIB); /* half the budget */
	for (uint32_t i = 1; i < MAX_BLOCKS; i++)
		ck_assert_uint_ge(eng_block_size(&cfg, i), eng_block_size(&cfg, i - 1));
}
END_TEST

START_TEST(test_blocks_never_exceed_half_the_budget_nor_the_service_limit)
{
	struct eng_config cfg;
	const uint64_t budgets[] = {16 * MIB, 40 * MIB, 256 * MIB, 64ULL * 1024 * MIB};

	eng_config_defaults(&cfg);
	cfg.part_size = 8 * MIB;
	for (size_t b = 0; b < ARRAY_SIZE(budgets); b++) {
		cfg.mem_budget = budgets[b];
		for (uint32_t i = 0; i < MAX_BLOCKS; i += 97) {
			uint64_t s = eng_block_size(&cfg, i);
			ck_assert_uint_le(s, MAX(cfg.part_size, budgets[b] / 2));
			ck_assert_uint_le(s, 4000 * MIB);
		}
	}
}
END_TEST

START_TEST(test_blocks_fifty_thousand_hold_what_the_header_promises)
{
	struct eng_config cfg;

	eng_config_defaults(&cfg);
	cfg.part_size = 8 * MIB;
	cfg.mem_budget = 40 * MIB; /* 20 MiB blocks at most: 8 MiB, then 16, then 20 */
	ck_assert_uint_eq(capacity(&cfg),
			  20000ULL * 8 * MIB + 2500ULL * 16 * MIB + 27500ULL * 20 * MIB);
	cfg.mem_budget = 256 * MIB;
	ck_assert_uint_ge(capacity(&cfg), 3ULL * 1024 * 1024 * MIB); /* over 3 TiB */
	cfg.mem_budget = 8000 * MIB;
	ck_assert_uint_ge(capacity(&cfg), 40ULL * 1024 * 1024 * MIB); /* over 40 TiB */
}
END_TEST

static Suite *blocks_suite(void)
{
	Suite *s = suite_create("engine_blocks");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_blocks_part_size_first_then_growing_never_shrinking);
	tcase_add_test(tc, test_blocks_never_exceed_half_the_budget_nor_the_service_limit);
	tcase_add_test(tc, test_blocks_fifty_thousand_hold_what_the_header_promises);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blocks_suite)
