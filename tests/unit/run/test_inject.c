/* test_inject.c - writing injection files with their modes, under a test root directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "run_test.h"
#include "util/alloc.h"

struct fixture {
    char root[512];
};

static int
make_root(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->root, sizeof(f->root), "%s/cas-run-test.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(f->root) == NULL)
        return -1;
    (void)run_test_setup(state);
    umask(022);
    *state = f;
    return 0;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int
drop_root(void **state)
{
    struct fixture *f = *state;
    int rc = nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);

    free(f);
    return rc;
}

static void
expect_file(const char *root, const char *path, const char *content, unsigned mode)
{
    char full[PATH_MAX], buf[256];
    struct stat st;
    int fd;
    ssize_t n;

    snprintf(full, sizeof(full), "%s%s", root, path);
    assert_int_equal(stat(full, &st), 0);
    assert_int_equal(st.st_mode & 07777, mode);
    fd = open(full, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(n, (ssize_t)strlen(content));
    assert_memory_equal(buf, content, strlen(content));
}

/* A file the test puts in place before cas-run writes. */
static void
put_file(const char *root, const char *name, const char *content, mode_t mode)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s%s", root, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static void
test_files_are_written_with_their_modes_and_parents_0700(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    char dir[PATH_MAX];
    struct stat st;
    bool on_tmpfs = true;

    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/tls/key.pem\", \"mode\": 256, \"content\": \"a2V5\"}, "
                    "{\"path\": \"/etc/app/app.conf\", \"mode\": 416, \"content\": \"Y29uZg==\"}, "
                    "{\"path\": \"/tls/empty\", \"mode\": 448, \"content\": \"\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_OK);
    assert_false(on_tmpfs);
    expect_file(f->root, "/tls/key.pem", "key", 0400);
    expect_file(f->root, "/etc/app/app.conf", "conf", 0640);
    expect_file(f->root, "/tls/empty", "", 0700);
    snprintf(dir, sizeof(dir), "%s/etc/app", f->root);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    for (size_t i = 0; i < a.file_count; i++)
        assert_null(a.files[i].content); /* wiped and freed once written */
    cas_run_answer_release(&a);
}

static void
test_an_existing_file_is_replaced_with_the_sessions_mode(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    bool on_tmpfs = false;

    put_file(f->root, "/old", "previous content, longer", 0666);
    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/old\", \"mode\": \"0o400\", \"content\": \"bmV3\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_OK);
    expect_file(f->root, "/old", "new", 0400);
    cas_run_answer_release(&a);
}

static void
test_a_parent_that_is_a_file_fails_naming_it(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    bool on_tmpfs = false;

    put_file(f->root, "/plain", "", 0600);
    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/plain/x\", \"mode\": 256, \"content\": \"eA==\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_E_IO);
    assert_non_null(strstr(err.msg[0], "/plain"));
    cas_run_answer_release(&a);
}

static void
test_a_failed_write_removes_the_files_written_before_it(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    char path[PATH_MAX];
    bool on_tmpfs = false;

    snprintf(path, sizeof(path), "%s/taken", f->root);
    assert_int_equal(mkdir(path, 0700), 0);
    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/first/ok\", \"mode\": 256, \"content\": \"b2s=\"}, "
                    "{\"path\": \"/taken\", \"mode\": 256, \"content\": \"eA==\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_E_IO);
    assert_non_null(strstr(err.msg[0], "/taken"));
    snprintf(path, sizeof(path), "%s/first/ok", f->root);
    assert_int_not_equal(access(path, F_OK), 0);
    cas_run_answer_release(&a);
}

static void
test_remove_files_takes_back_what_was_written(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    char path[PATH_MAX];
    bool on_tmpfs = false;

    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/back/a\", \"mode\": 256, \"content\": \"YQ==\"}, "
                    "{\"path\": \"/back/b\", \"mode\": 256, \"content\": \"Yg==\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_OK);
    expect_file(f->root, "/back/b", "b", 0400);
    cas_run_remove_files(&a, f->root);
    snprintf(path, sizeof(path), "%s/back/a", f->root);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/back/b", f->root);
    assert_int_not_equal(access(path, F_OK), 0);
    cas_run_answer_release(&a);
}

/* In a child (the namespace is per process): with a private tmpfs the file is visible to the
 * writer only; without CAP_SYS_ADMIN it falls back to the file system. */
static void
test_private_tmpfs_keeps_files_off_the_disk_or_falls_back(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    char path[PATH_MAX];
    int fds[2], status = 0;
    char verdict = '?';
    pid_t pid;

    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/mem/secret\", \"mode\": 256, \"content\": \"c2VjcmV0\"}]");
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cas_err err = {0};
        bool on_tmpfs = false;
        char full[PATH_MAX];
        struct stat st;

        close(fds[0]);
        snprintf(full, sizeof(full), "%s/mem/secret", f->root);
        if (cas_run_write_files(&a, f->root, true, &on_tmpfs, &err) != CAS_OK ||
            stat(full, &st) != 0 || (st.st_mode & 07777) != 0400)
            _exit(1);
        verdict = on_tmpfs ? 't' : 'd';
        _exit(write(fds[1], &verdict, 1) == 1 ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &verdict, 1), 1);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(path, sizeof(path), "%s/mem/secret", f->root);
    if (verdict == 't')
        assert_int_not_equal(access(path, F_OK), 0); /* in the child's tmpfs only */
    else
        expect_file(f->root, "/mem/secret", "secret", 0400);
    cas_run_answer_release(&a);
}

static void
test_a_symlinked_parent_is_refused_and_nothing_lands_at_its_target(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    char target[PATH_MAX], link[PATH_MAX], path[PATH_MAX + 16];
    bool on_tmpfs = false;

    snprintf(target, sizeof(target), "%s/elsewhere", f->root);
    snprintf(link, sizeof(link), "%s/linked", f->root);
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(symlink(target, link), 0);
    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/ok/first\", \"mode\": 256, \"content\": \"eA==\"}, "
                    "{\"path\": \"/linked/cron.d/x\", \"mode\": 256, \"content\": \"eA==\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_E_IO);
    assert_non_null(strstr(err.msg[0], "'/linked' is a symbolic link"));
    snprintf(path, sizeof(path), "%s/elsewhere/cron.d", f->root);
    assert_int_not_equal(access(path, F_OK), 0); /* nothing made through the link */
    snprintf(path, sizeof(path), "%s/ok/first", f->root);
    assert_int_not_equal(access(path, F_OK), 0); /* and the file before it taken back */
    cas_run_answer_release(&a);
}

static void
test_a_symlinked_parent_deeper_down_is_refused_too(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    char dir[PATH_MAX], link[PATH_MAX], away[PATH_MAX], path[PATH_MAX + 16];
    bool on_tmpfs = false;

    snprintf(dir, sizeof(dir), "%s/app", f->root);
    snprintf(link, sizeof(link), "%s/app/conf", f->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(away, sizeof(away), "%s/away", f->root);
    assert_int_equal(mkdir(away, 0700), 0);
    assert_int_equal(symlink(away, link), 0);
    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/app/conf/x\", \"mode\": 256, \"content\": \"eA==\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_E_IO);
    assert_non_null(strstr(err.msg[0], "'/app/conf' is a symbolic link"));
    snprintf(path, sizeof(path), "%s/away/x", f->root);
    assert_int_not_equal(access(path, F_OK), 0);
    cas_run_answer_release(&a);
}

static void
test_a_symlink_as_the_file_itself_is_replaced_not_followed(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    struct cas_err err = {0};
    char link[PATH_MAX];
    struct stat st;
    bool on_tmpfs = false;

    put_file(f->root, "/victim", "host file", 0600);
    snprintf(link, sizeof(link), "%s/name", f->root);
    assert_int_equal(symlink("victim", link), 0);
    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/name\", \"mode\": 256, \"content\": \"bmV3\"}]");
    assert_int_equal(cas_run_write_files(&a, f->root, false, &on_tmpfs, &err), CAS_OK);
    expect_file(f->root, "/victim", "host file", 0600);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    cas_run_answer_release(&a);
}

/* In a child (the namespace is per process): with a private mount namespace, a file whose parent
 * is "/" fails naming it and nothing is written, not even the files that could be private. */
static void
test_a_file_in_the_root_fails_naming_it_rather_than_leave_the_tmpfs(void **state)
{
    struct fixture *f = *state;
    struct cas_run_answer a;
    char path[PATH_MAX];
    int fds[2], status = 0;
    char verdict = '?';
    pid_t pid;

    run_test_answer(&a, "[\"p\"]", "{}", "[]",
                    "[{\"path\": \"/cron.d/cas-test-x\", \"mode\": 256, \"content\": \"eA==\"}, "
                    "{\"path\": \"/x\", \"mode\": 256, \"content\": \"eA==\"}]");
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cas_err err = {0};
        bool on_tmpfs = false;
        cas_rc rc;

        close(fds[0]);
        rc = cas_run_write_files(&a, f->root, true, &on_tmpfs, &err);
        if (rc == CAS_E_INVALID && strstr(err.msg[0], "injection file '/x' cannot be kept in a "
                                                      "private tmpfs: its directory is '/'"))
            verdict = 'e';
        else if (rc == CAS_OK && !on_tmpfs)
            verdict = 'd'; /* no namespace here: written to the file system (api.md §4) */
        _exit(write(fds[1], &verdict, 1) == 1 ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &verdict, 1), 1);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (verdict == 'e') {
        snprintf(path, sizeof(path), "%s/x", f->root);
        assert_int_not_equal(access(path, F_OK), 0);
        snprintf(path, sizeof(path), "%s/cron.d", f->root);
        assert_int_not_equal(access(path, F_OK), 0);
    } else {
        assert_int_equal(verdict, 'd');
        expect_file(f->root, "/x", "x", 0400);
    }
    cas_run_answer_release(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_are_written_with_their_modes_and_parents_0700),
        cmocka_unit_test(test_an_existing_file_is_replaced_with_the_sessions_mode),
        cmocka_unit_test(test_a_parent_that_is_a_file_fails_naming_it),
        cmocka_unit_test(test_a_failed_write_removes_the_files_written_before_it),
        cmocka_unit_test(test_remove_files_takes_back_what_was_written),
        cmocka_unit_test(test_private_tmpfs_keeps_files_off_the_disk_or_falls_back),
        cmocka_unit_test(test_a_symlinked_parent_is_refused_and_nothing_lands_at_its_target),
        cmocka_unit_test(test_a_symlinked_parent_deeper_down_is_refused_too),
        cmocka_unit_test(test_a_symlink_as_the_file_itself_is_replaced_not_followed),
        cmocka_unit_test(test_a_file_in_the_root_fails_naming_it_rather_than_leave_the_tmpfs),
    };
    return cmocka_run_group_tests(tests, make_root, drop_root);
}
