/*
 * fuzz_options.c - libFuzzer target: the command line's -o options (first
 * byte even) and the config file (first byte odd: the rest is written to
 * a private file, mode 0600, and named by -o config=).
 */
#include "azblobfs/options.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char config_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azb_opts o;
	char err[256], cfg[96];
	char *text;

	if (!size)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	if (data[0] % 2 == 0) {
		char *argv[] = {(char *)"azblobfs", (char *)"-o", text,
				(char *)"c",        (char *)"/m", NULL};
		(void)opts_parse(5, argv, &o, err, sizeof(err));
		opts_release(&o); /* after a failure too: it may hold what it parsed */
	} else {
		FILE *f;
		if (!config_path[0])
			snprintf(config_path, sizeof(config_path), "/tmp/azblobfs-fuzz-%d.conf",
				 (int)getpid());
		f = fopen(config_path, "w");
		if (f) {
			fchmod(fileno(f), 0600);
			fwrite(data + 1, 1, size - 1, f);
			fclose(f);
			snprintf(cfg, sizeof(cfg), "config=%s", config_path);
			char *argv[] = {(char *)"azblobfs", (char *)"-o", cfg,
					(char *)"c",        (char *)"/m", NULL};
			(void)opts_parse(5, argv, &o, err, sizeof(err));
			opts_release(&o);
			unlink(config_path);
		}
	}
	free(text);
	return 0;
}
