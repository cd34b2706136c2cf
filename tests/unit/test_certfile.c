/* SPDX-License-Identifier: Apache-2.0 */
/* certfile: atomic writes with their modes (keys 0600), replacing a file
 * in one step with no temporary left behind, failures that leave the old
 * content, and reads with their limit. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs/certfile.h"

#include "testutil.h"

static char dir[] = "/tmp/zl-certfile-XXXXXX";

static void setup(void)
{
    umask(022);
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    testutil_remove_dir(dir);
}

static size_t entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

TestSuite(certfile, .init = setup, .fini = teardown);

Test(certfile, writes_with_each_mode_and_replaces)
{
    static const struct {
        mode_t mode;
        const char *text;
    } cases[] = {{CERTFILE_MODE_KEY, "key one"},
                 {CERTFILE_MODE_CERT, "cert two, longer"},
                 {CERTFILE_MODE_KEY, "k"}};
    char path[256];
    snprintf(path, sizeof(path), "%s/file.pem", dir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stat st;
        struct buf back;
        buf_init(&back, CERTFILE_MAX);
        cr_assert_eq(certfile_write(path, cases[i].text, strlen(cases[i].text),
                                    cases[i].mode),
                     ZL_OK);
        cr_assert_eq(stat(path, &st), 0);
        cr_expect_eq(st.st_mode & 0777, cases[i].mode, "case %zu: %o", i,
                     st.st_mode & 0777);
        cr_assert_eq(certfile_read(path, &back), ZL_OK);
        cr_expect_str_eq(back.data, cases[i].text);
        cr_expect_eq(entries(), 1, "a temporary file was left");
        buf_cleanup(&back);
    }
}

Test(certfile, replacement_is_a_rename)
{
    char path[256];
    struct stat before;
    struct stat after;
    snprintf(path, sizeof(path), "%s/tls.crt", dir);
    cr_assert_eq(certfile_write(path, "old", 3, CERTFILE_MODE_CERT), ZL_OK);
    cr_assert_eq(stat(path, &before), 0);
    /* A reader holding the old file keeps reading the old content. */
    FILE *reader = fopen(path, "r");
    cr_assert_not_null(reader);
    cr_assert_eq(certfile_write(path, "new", 3, CERTFILE_MODE_CERT), ZL_OK);
    cr_assert_eq(stat(path, &after), 0);
    cr_expect_neq(before.st_ino, after.st_ino);
    char got[8] = "";
    cr_assert_not_null(fgets(got, sizeof(got), reader));
    cr_expect_str_eq(got, "old");
    fclose(reader);
}

Test(certfile, failed_write_keeps_the_old_file)
{
    char sub[256];
    char path[300];
    struct buf back;
    buf_init(&back, CERTFILE_MAX);
    snprintf(sub, sizeof(sub), "%s/ro", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(path, sizeof(path), "%s/tls.key", sub);
    cr_assert_eq(certfile_write(path, "old", 3, CERTFILE_MODE_KEY), ZL_OK);
    cr_assert_eq(chmod(sub, 0555), 0);
    if (geteuid() != 0) {
        cr_expect_eq(certfile_write(path, "new", 3, CERTFILE_MODE_KEY),
                     ZL_ERR_IO);
        cr_assert_eq(certfile_read(path, &back), ZL_OK);
        cr_expect_str_eq(back.data, "old");
    }
    chmod(sub, 0755);
    unlink(path);
    rmdir(sub);
    /* A folder that does not exist (root or not). */
    snprintf(path, sizeof(path), "%s/none/tls.key", dir);
    cr_expect_eq(certfile_write(path, "x", 1, CERTFILE_MODE_KEY), ZL_ERR_IO);
    buf_cleanup(&back);
}

Test(certfile, reads_with_a_limit)
{
    char path[256];
    struct buf b;
    buf_init(&b, CERTFILE_MAX + 16);
    snprintf(path, sizeof(path), "%s/none.pem", dir);
    cr_expect_eq(certfile_read(path, &b), ZL_ERR_NOTFOUND);
    snprintf(path, sizeof(path), "%s/empty.pem", dir);
    cr_assert_eq(certfile_write(path, "", 0, CERTFILE_MODE_CERT), ZL_OK);
    cr_expect_eq(certfile_read(path, &b), ZL_OK);
    cr_expect_eq(b.len, 0);
    cr_expect_str_eq(b.data, "");
    char *big = calloc(1, CERTFILE_MAX + 1);
    cr_assert_not_null(big);
    memset(big, 'a', CERTFILE_MAX + 1);
    snprintf(path, sizeof(path), "%s/big.pem", dir);
    cr_assert_eq(certfile_write(path, big, CERTFILE_MAX, CERTFILE_MODE_CERT),
                 ZL_OK);
    cr_expect_eq(certfile_read(path, &b), ZL_OK);
    cr_expect_eq(b.len, CERTFILE_MAX);
    cr_assert_eq(
        certfile_write(path, big, CERTFILE_MAX + 1, CERTFILE_MODE_CERT), ZL_OK);
    cr_expect_eq(certfile_read(path, &b), ZL_ERR_LIMIT);
    free(big);
    buf_cleanup(&b);
}
