/*
 * A stand-in for libFuzzer's driver in ordinary builds: feeds every regular
 * file of one directory to LLVMFuzzerTestOneInput, so inputs that once
 * crashed a target keep being checked by ctest under the sanitizers. A
 * missing directory is not an error: a target may have no regressions yet.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file; returns NULL (and says why) on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        goto out;
    }
    /* Exactly the file's size, so ASan sees any read past the input
     * (malloc(0) may return NULL, hence the one byte for empty files). */
    buf = malloc(size ? (size_t)size : 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        perror(path);
        free(buf);
        buf = NULL;
        goto out;
    }
    *len = (size_t)size;
out:
    if (f != NULL)
        fclose(f);
    return buf;
}

static int replay_one(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    uint8_t *data;
    size_t len = 0;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return 0;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    data = read_file(path, &len);
    if (data == NULL)
        return -1;
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 1;
}

int main(int argc, char **argv)
{
    unsigned n = 0;
    DIR *d;
    struct dirent *e;
    int failed = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    d = opendir(argv[1]);
    while (d != NULL && (e = readdir(d)) != NULL) {
        int r = replay_one(argv[1], e->d_name);

        if (r < 0)
            failed = 1;
        n += r > 0;
    }
    if (d != NULL)
        closedir(d);
    printf("replayed %u inputs from %s\n", n, argv[1]);
    return failed;
}
