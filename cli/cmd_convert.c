/*
 * cmd_convert.c - `faxpost convert [--type MIME] IN... [--to EXPR] -o OUT [--server]`.
 *
 * Contract: converts the input parts (files, or - for standard input; each --type applies
 * to the next IN, otherwise the type is sniffed) into one TIFF-FX file OUT for a receiver
 * whose capabilities are the RFC 2533 expression EXPR (omitted: no capability
 * information). The job runs in the same sandbox codecd uses, in this process's child,
 * or in codecd itself with --server (private/codecd of the configuration). Prints
 * "OUT: N pages, profile F MMR 204x196, width 1728 (A4)"; exit 0 on success, 1 when the
 * conversion failed (the enhanced status and reason are printed), 2 on a usage error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec/client.h"
#include "codec/sandbox.h"
#include "mail/config.h"

static int convert_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost convert [--type MIME] IN [[--type MIME] IN]... [--to EXPR] -o OUT [--server]\n"
		"  Convert documents (TIFF, PDF, text/plain, PNG, JPEG; - = standard input) into one\n"
		"  TIFF-FX file for a receiver described by the RFC 2533 expression EXPR, e.g.\n"
		"  --to '(& (image-coding=[MH,MMR]) (dpi=204) (dpi-xyratio=[204/98,204/196]))'.\n"
		"  --server asks the running codecd instead of converting in this process.\n");
	return fp == stdout ? 0 : 2;
}

static void convert_limits(codec_limits *lim)
{
	codec_limits_default(lim);
	if (!cli_config_ok)
		return;
	lim->cpu_seconds = conf_time("codec_cpu_limit");
	lim->memory_bytes = conf_size("codec_memory_limit");
	lim->wall_seconds = conf_time("codec_time_limit");
	lim->max_input = conf_size("codec_max_input_size");
	lim->max_output = conf_size("codec_max_output_size");
	lim->max_pages = (unsigned)conf_int("codec_max_pages");
	lim->font = conf_str("codec_font");
}

static const char *coding_name(const codec_target *t)
{
	return t->profile == TIFF_PROFILE_J ? "JBIG" : t->coding == T4_MMR ? "MMR" :
	       t->coding == T4_MR ? "MR" : "MH";
}

int cmd_convert(int argc, char **argv)
{
	const char *types[CODEC_MAX_PARTS], *target = NULL, *outpath = NULL, *next_type = NULL;
	int fds[CODEC_MAX_PARTS], n = 0, server = 0, out, rc;
	codec_limits lim;
	codec_result r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return convert_usage(stdout);
		if ((!strcmp(a, "--to") || !strcmp(a, "-o") || !strcmp(a, "--type")) && i + 1 >= argc)
			return convert_usage(stderr);
		if (!strcmp(a, "--to"))
			target = argv[++i];
		else if (!strcmp(a, "-o"))
			outpath = argv[++i];
		else if (!strcmp(a, "--type"))
			next_type = argv[++i];
		else if (!strcmp(a, "--server"))
			server = 1;
		else if (a[0] == '-' && a[1])
			return convert_usage(stderr);
		else if (n >= CODEC_MAX_PARTS) {
			fprintf(stderr, "faxpost convert: at most %d input parts\n", CODEC_MAX_PARTS);
			return 2;
		} else {
			fds[n] = !strcmp(a, "-") ? dup(0) : open(a, O_RDONLY | O_CLOEXEC);
			if (fds[n] < 0) {
				perror(a);
				return 1;
			}
			types[n++] = next_type;
			next_type = NULL;
		}
	}
	if (n == 0 || !outpath)
		return convert_usage(stderr);
	if ((out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		perror(outpath);
		return 1;
	}
	convert_limits(&lim);
	if (server && !cli_config_ok) {
		fprintf(stderr, "faxpost convert: --server needs the configuration (-c)\n");
		rc = -1;
	} else if (server) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/private/codecd", conf_str("queue_directory"));
		rc = codecd_convert(path, fds, types, (size_t)n, out, target,
				    (int)(lim.wall_seconds + 30) * 1000, &r);
		if (rc < 0)
			fprintf(stderr, "faxpost convert: %s %s\n", r.status, r.reason);
	} else
		rc = codec_job_run(fds, types, (size_t)n, out, target, &lim, &r);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(out);
	if (rc < 0) {
		unlink(outpath);
		return 1;
	}
	if (strcmp(r.status, "2.0.0") != 0) {
		fprintf(stderr, "faxpost convert: %s %s\n", r.status, r.reason);
		unlink(outpath);
		return 1;
	}
	printf("%s: %zu pages, profile %s %s %ux%u, width %u (%s)\n", outpath, r.pages,
	       r.target.profile == TIFF_PROFILE_S ? "S" : r.target.profile == TIFF_PROFILE_J ? "J" : "F",
	       coding_name(&r.target), r.target.xres, r.target.yres, r.target.width,
	       r.target.paper_name ? r.target.paper_name : "A4");
	return 0;
}
