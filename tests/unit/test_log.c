/* test_log.c - log lines: the printf-free request line matches what
 * log_msg would write, and lines are whole. */
#include "core/log.h"
#include "test.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* capture: runs fn with fd 2 sent to a temp file; returns its text
 * (malloc'd, NUL-terminated). */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/fogbank-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	CHECK(fd >= 0 && saved >= 0);
	enum log_level old = log_min_level;
	log_min_level = LOG_INFO;
	log_flush();
	dup2(fd, 2);
	fn();
	log_flush();
	dup2(saved, 2);
	close(saved);
	log_min_level = old;
	off_t n = lseek(fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)n + 1);
	CHECK(text && pread(fd, text, (size_t)n, 0) == n);
	close(fd);
	unlink(path);
	return text;
}

static void both(void)
{
	log_request("secretsmanager", "GetSecretValue", 200, 116400, NULL);
	log_msg(LOG_INFO, "%s %s %d %.3fms%s%s", "secretsmanager", "GetSecretValue", 200, 0.116, "",
		"");
	log_request("kms", "Decrypt", 400, 12345678901, "NotFoundException");
	log_msg(LOG_INFO, "%s %s %d %.3fms%s%s", "kms", "Decrypt", 400, 12345.679, " ",
		"NotFoundException");
	log_request("s3", "-", 503, 999, NULL);
}

TEST(log_request_matches_printf_form)
{
	char *text = capture(both);
	char *line[5] = {0}, *save = NULL;
	int n = 0;
	for (char *l = strtok_r(text, "\n", &save); l && n < 5; l = strtok_r(NULL, "\n", &save))
		line[n++] = l;
	CHECK(n == 5);
	/* "2026-01-01T00:00:00.000Z INFO " then the message */
	for (int i = 0; i < n; i++)
		CHECK(strlen(line[i]) > 25 && line[i][19] == '.' && line[i][23] == 'Z');
	CHECK(n == 5 && strcmp(line[0] + 25, line[1] + 25) == 0);
	CHECK(n == 5 && strcmp(line[2] + 25, line[3] + 25) == 0);
	CHECK(n == 5 &&
	      strcmp(line[0] + 25, "INFO secretsmanager GetSecretValue 200 0.116ms") == 0);
	CHECK(n == 5 && strcmp(line[4] + 25, "ERROR s3 - 503 0.001ms") == 0);
	free(text);
}
