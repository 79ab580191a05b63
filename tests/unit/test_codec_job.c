/*
 * test_codec_job.c - rendering (text/plain with FreeType, PDF with poppler, PNG and JPEG
 * dithered), whole conversion jobs with their enhanced status codes (2.0.0, 5.6.1,
 * 5.6.3, 5.6.5), the sandboxed job runner (limits, output left empty on failure) and the
 * seccomp filter itself (no sockets, no opening files, no fork), and hostile inputs.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec/job.h"
#include "codec/render.h"
#include "codec/sandbox.h"
#include "codec/tiff.h"
#include "util/msg.h"

/* Under LeakSanitizer: fontconfig, poppler, cairo and GLib keep process-wide caches
 * that they never free; those are not our leaks. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\nleak:libpoppler.so\nleak:libpoppler-glib.so\n"
	       "leak:libcairo.so\nleak:libglib-2.0.so\nleak:libgobject-2.0.so\n";
}

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[512];
	const char *src = getenv("FAXPOST_SRCDIR");
	FILE *f;
	uint8_t *p;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/corpus/%s", src ? src : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = xmalloc((size_t)n + 1);
	ck_assert_int_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static const render_opts FINE = { 204, 196, 1728, 2292, 100 };

START_TEST(test_text)
{
	size_t len;
	uint8_t *txt = slurp("src/email.txt", &len);
	codec_doc d;
	char err[256];
	static const char odd[] = "tab\there\fnext page\n\xff\xfe bad utf-8 \xe2\x82 and \xe2\x82\xac euro\n";
	char longline[3000];

	ck_assert_msg(render_text((char *)txt, len, &FINE, &d, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ge(d.n, 10);
	ck_assert_uint_le(d.n, 13);
	for (size_t i = 0; i < d.n; i++) {
		ck_assert_uint_eq(d.pages[i]->width, 1728);
		ck_assert_uint_gt(page_black_pixels(d.pages[i]), 1000);
	}
	doc_free(&d);
	/* Form feed: two pages; bad UTF-8 is drawn as U+FFFD, not fatal. */
	ck_assert_int_eq(render_text(odd, sizeof(odd) - 1, &FINE, &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.n, 2);
	doc_free(&d);
	/* A 3000-character line wraps (about 38 lines of 80). */
	memset(longline, 'x', sizeof(longline));
	ck_assert_int_eq(render_text(longline, sizeof(longline), &FINE, &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.n, 1);
	doc_free(&d);
	/* Page limit: an error, not a truncation. */
	{
		render_opts two = FINE;
		two.max_pages = 2;
		ck_assert_int_eq(render_text((char *)txt, len, &two, &d, err, sizeof(err)), -1);
		ck_assert(strstr(err, "more than 2 pages") != NULL);
	}
	free(txt);
}
END_TEST

START_TEST(test_pdf)
{
	size_t len;
	uint8_t *pdf = slurp("src/email.pdf", &len);
	codec_doc d;
	char err[256];

	ck_assert_msg(render_pdf(pdf, len, &FINE, &d, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ge(d.n, 1);
	ck_assert_uint_gt(page_black_pixels(d.pages[0]), 1000);
	doc_free(&d);
	/* Broken PDFs: a clear error. */
	ck_assert_int_eq(render_pdf(pdf, len / 3, &FINE, &d, err, sizeof(err)) == 0 ? (doc_free(&d), 0) : -1, -1);
	ck_assert_int_eq(render_pdf((const uint8_t *)"%PDF-1.4\ngarbage", 16, &FINE, &d, err, sizeof(err)), -1);
	ck_assert(strncmp(err, "PDF:", 4) == 0);
	free(pdf);
}
END_TEST

static buf make_png(uint32_t w, uint32_t h)
{
	png_image img;
	uint8_t *g = xmalloc((size_t)w * h);
	png_alloc_size_t n = 0;
	buf b;

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			g[y * w + x] = (uint8_t)(x * 255 / w);
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = PNG_FORMAT_GRAY;
	ck_assert(png_image_write_to_memory(&img, NULL, &n, 0, g, 0, NULL));
	buf_init(&b, 0);
	buf_reserve(&b, n);
	ck_assert(png_image_write_to_memory(&img, b.data, &n, 0, g, 0, NULL));
	b.len = n;
	free(g);
	return b;
}

static buf make_jpeg(uint32_t w, uint32_t h)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *mem = NULL;
	unsigned long n = 0;
	uint8_t *row = xmalloc(w);
	buf b;

	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &mem, &n);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < h) {
		for (uint32_t x = 0; x < w; x++)
			row[x] = (uint8_t)((x + c.next_scanline) & 255);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	buf_init(&b, 0);
	buf_append(&b, mem, n);
	free(mem);
	free(row);
	return b;
}

START_TEST(test_images)
{
	buf png = make_png(300, 200), jpg = make_jpeg(320, 240);
	codec_doc d;
	char err[256];
	size_t black;

	ck_assert_msg(render_image((uint8_t *)png.data, png.len, &FINE, &d, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(d.n, 1);
	/* A left-to-right ramp: about half black after dithering, not all or nothing. */
	black = page_black_pixels(d.pages[0]);
	ck_assert_uint_gt(black, 100000);
	doc_free(&d);
	ck_assert_msg(render_image((uint8_t *)jpg.data, jpg.len, &FINE, &d, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(d.n, 1);
	doc_free(&d);
	/* Truncated and corrupt images; a header claiming 100000 x 100000 pixels. */
	ck_assert_int_eq(render_image((uint8_t *)png.data, png.len / 2, &FINE, &d, err, sizeof(err)), -1);
	ck_assert(strncmp(err, "PNG", 3) == 0);
	ck_assert_int_eq(render_image((uint8_t *)jpg.data, 40, &FINE, &d, err, sizeof(err)), -1);
	ck_assert(strncmp(err, "JPEG", 4) == 0);
	png.data[16] = 0; png.data[17] = 1; png.data[18] = 0x86; png.data[19] = 0xa0;	/* width */
	png.data[20] = 0; png.data[21] = 1; png.data[22] = 0x86; png.data[23] = 0xa0;	/* height */
	ck_assert_int_eq(render_image((uint8_t *)png.data, png.len, &FINE, &d, err, sizeof(err)), -1);
	ck_assert(strncmp(err, "PNG", 3) == 0);
	ck_assert_int_eq(render_image((const uint8_t *)"GIF89a", 6, &FINE, &d, err, sizeof(err)), -1);
	buf_free(&png);
	buf_free(&jpg);
}
END_TEST

static int convert(const uint8_t *data, size_t len, const char *type, const char *caps, codec_result *r, buf *out)
{
	codec_input in = { data, len, type };
	char err[256];
	fs_expr *e = caps ? fs_parse(caps, strlen(caps), err, sizeof(err)) : NULL;
	int rc;

	rc = codec_convert(&in, 1, e, 100, out, r);
	fs_free(e);
	return rc;
}

START_TEST(test_jobs)
{
	size_t len;
	uint8_t *tif = slurp("std_g4.tif", &len), *txt;
	codec_result r;
	buf out;
	codec_doc d;
	char err[256];
	tiff_src src;

	buf_init(&out, 0);
	ck_assert_int_eq(convert(tif, len, "image/tiff", "(& (image-coding=MH) (image-file-structure=TIFF-minimal))", &r, &out), 0);
	ck_assert_str_eq(r.status, "2.0.0");
	ck_assert_uint_eq(r.pages, 6);
	ck_assert_int_eq(tiff_read((uint8_t *)out.data, out.len, 0, &d, &src, err, sizeof(err)), 0);
	ck_assert_int_eq(src.profile_s, 1);
	ck_assert_uint_eq(d.pages[0]->yres, 98);
	doc_free(&d);
	ck_assert_int_eq(convert(tif, len, NULL, "(image-coding=JPEG)", &r, &out), -1);
	ck_assert_str_eq(r.status, "5.6.3");
	ck_assert_int_eq(convert(tif, len, "application/msword", NULL, &r, &out), -1);
	ck_assert_str_eq(r.status, "5.6.1");
	ck_assert_int_eq(convert(tif, 300, "image/tiff", NULL, &r, &out), -1);
	ck_assert_str_eq(r.status, "5.6.5");
	ck_assert(strstr(r.reason, "conversion failed") != NULL);
	/* Features of the converted file and of the corpus file. */
	{
		buf f;
		fs_expr *fe, *caps;
		const char *s_caps = "(& (image-file-structure=TIFF-minimal) (image-coding=MH) (dpi=204)"
				     " (dpi-xyratio=[204/98,204/196]) (size-x<=2150/254) (paper-size=A4))";
		buf_init(&f, 0);
		ck_assert_int_eq(codec_features((uint8_t *)out.data, out.len, &f, err, sizeof(err)), 0);
		ck_assert_str_eq(f.data, "(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary)"
				 " (image-coding=MH) (dpi=204) (dpi-xyratio=102/49) (size-x=2150/254) (paper-size=A4))");
		fe = fs_parse(f.data, f.len, err, sizeof(err));
		caps = fs_parse(s_caps, strlen(s_caps), err, sizeof(err));
		ck_assert_int_eq(fs_match(caps, fe), 1);
		fs_free(fe);
		buf_reset(&f);
		ck_assert_int_eq(codec_features(tif, len, &f, err, sizeof(err)), 0);
		ck_assert(strstr(f.data, "(image-coding=MMR)") != NULL);
		fe = fs_parse(f.data, f.len, err, sizeof(err));
		ck_assert_int_eq(fs_match(caps, fe), 0);	/* MMR: must be converted */
		fs_free(fe);
		fs_free(caps);
		buf_free(&f);
	}
	txt = slurp("src/email.txt", &len);
	ck_assert_int_eq(convert(txt, len, NULL, "(& (image-coding=[MH,MR]) (dpi=200) (dpi-xyratio=1))", &r, &out), 0);
	ck_assert_int_eq(r.target.coding, T4_MR);
	ck_assert_uint_eq(r.target.xres, 200);
	ck_assert_uint_eq(r.target.yres, 200);
	free(txt);
	buf_free(&out);
	free(tif);
}
END_TEST

/* The seccomp filter: what the job process may no longer do. */
START_TEST(test_seccomp)
{
	for (int ro = 0; ro <= 1; ro++) {
		pid_t pid = fork();
		int st;

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			int bad = 0, fd;
			if (codec_sandbox_enter(ro) < 0)
				_exit(10);
			if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM)
				bad |= 1;
			if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0)
				bad |= 2;
			fd = open("/etc/hostname", O_RDONLY);
			if (ro ? fd < 0 : fd >= 0)
				bad |= 4;
			if (open("/tmp/codec-sandbox-test", O_WRONLY | O_CREAT, 0600) >= 0)
				bad |= 8;
			if (fork() >= 0)		/* a child would also exit 0 here: fine */
				bad |= 16;
			if (write(1, "", 0) < 0)
				bad |= 32;		/* ordinary I/O still works */
			_exit(bad);
		}
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ro=%d: status %d", ro, st);
	}
}
END_TEST

static int tmpfile_fd(const char *content, size_t n)
{
	char path[] = "/tmp/test_codec_job.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	if (n)
		ck_assert_int_eq(write(fd, content, n), (ssize_t)n);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

START_TEST(test_job_runner)
{
	size_t len;
	uint8_t *tif = slurp("std_g4.tif", &len);
	codec_limits lim;
	codec_result r;
	struct stat sb;
	int in = tmpfile_fd((char *)tif, len), out = tmpfile_fd(NULL, 0);
	const char *types[1] = { NULL };

	codec_limits_default(&lim);
	ck_assert_int_eq(codec_job_run(&in, types, 1, out, "(image-coding=MMR)", &lim, &r), 0);
	ck_assert_str_eq(r.status, "2.0.0");
	ck_assert_uint_eq(r.pages, 6);
	ck_assert_int_eq(fstat(out, &sb), 0);
	ck_assert_int_gt(sb.st_size, 100000);
	/* A bad expression: 5.5.4. */
	lseek(in, 0, SEEK_SET);
	ck_assert_int_eq(ftruncate(out, 0), 0);
	lseek(out, 0, SEEK_SET);
	ck_assert_int_eq(codec_job_run(&in, types, 1, out, "(image-coding=", &lim, &r), 0);
	ck_assert_str_eq(r.status, "5.5.4");
#if !defined(__SANITIZE_ADDRESS__)
	/* Too little memory: the job dies, 5.6.5, and the output stays empty (the ASan
	 * build has no RLIMIT_AS: see sandbox.c). */
	lseek(in, 0, SEEK_SET);
	lim.memory_bytes = 8 << 20;
	ck_assert_int_eq(codec_job_run(&in, types, 1, out, NULL, &lim, &r), 0);
	ck_assert_str_eq(r.status, "5.6.5");
	ck_assert_int_eq(fstat(out, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
#endif
	/* Input larger than allowed. */
	codec_limits_default(&lim);
	lim.max_input = 1000;
	lseek(in, 0, SEEK_SET);
	ck_assert_int_eq(codec_job_run(&in, types, 1, out, NULL, &lim, &r), 0);
	ck_assert_str_eq(r.status, "5.6.5");
	ck_assert(strstr(r.reason, "larger") != NULL);
	close(in);
	close(out);
	free(tif);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec_job");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_pdf);
	tcase_add_test(tc, test_images);
	tcase_add_test(tc, test_jobs);
	tcase_add_test(tc, test_seccomp);
	tcase_add_test(tc, test_job_runner);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
