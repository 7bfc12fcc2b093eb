#define _GNU_SOURCE /* strerrorname_np */
#include "ds18b20_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Two lines of about 40 characters each; more means the file is not a w1_slave. */
#define W1_SLAVE_CAPACITY 512

static void errno_text(int code, char* out, size_t size) {
    const char* name = strerrorname_np(code);
    snprintf(out, size, "%s: %s", name ? name : "errno", strerror(code));
}

/* Reads the whole (small) file at `path` into `text`; returns 0, or the errno value. */
static int slurp(const char* path, char* text, size_t size) {
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t used = 0;
    int result = 0;
    while (used + 1 < size) {
        const ssize_t n = read(fd, text + used, size - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            result = errno;
            break;
        }
        if (n == 0) break;
        used += (size_t)n;
    }
    close(fd);
    text[used] = '\0';
    return result;
}

static int ends_with_word(const char* line, size_t length, const char* word) {
    while (length > 0 && (line[length - 1] == ' ' || line[length - 1] == '\r')) --length;
    const size_t n = strlen(word);
    return length >= n && memcmp(line + length - n, word, n) == 0 &&
           (length == n || line[length - n - 1] == ' ');
}

int ds18b20_parse_w1_slave(const char* text, const char* id, long* millicelsius, char* error,
                           size_t capacity) {
    const char* newline = strchr(text, '\n');
    const size_t first = newline ? (size_t)(newline - text) : strlen(text);
    if (ends_with_word(text, first, "NO")) return 1;
    if (!newline || !ends_with_word(text, first, "YES")) {
        snprintf(error, capacity, "probe %s: unexpected w1_slave content (no CRC YES/NO line)", id);
        return -1;
    }
    const char* t = strstr(newline + 1, "t=");
    char* end = NULL;
    errno = 0;
    const long value = t ? strtol(t + 2, &end, 10) : 0;
    if (!t || end == t + 2 || errno != 0 || (*end != '\0' && *end != '\n' && *end != '\r')) {
        snprintf(error, capacity, "probe %s: unexpected w1_slave content (no t=<value>)", id);
        return -1;
    }
    if (value == DS18B20_POWER_ON_MILLICELSIUS) {
        snprintf(error, capacity,
                 "probe %s: 85.000 C is its power-on value, not a reading (no conversion "
                 "happened: check its power supply and wiring)",
                 id);
        return -1;
    }
    *millicelsius = value;
    return 0;
}

int ds18b20_read_probe(const char* w1_path, const char* id, long* millicelsius, char* error,
                       size_t capacity) {
    char path[PATH_MAX];
    char text[W1_SLAVE_CAPACITY];
    if ((size_t)snprintf(path, sizeof path, "%s/%s/w1_slave", w1_path, id) >= sizeof path) {
        snprintf(error, capacity, "probe %s: path under %s is too long", id, w1_path);
        return -1;
    }
    /* The driver checks the CRC on each read: one retry rides out a glitch on the wire. */
    for (int attempt = 0; attempt < 2; ++attempt) {
        const int code = slurp(path, text, sizeof text);
        if (code != 0) {
            char cause[128];
            errno_text(code, cause, sizeof cause);
            snprintf(error, capacity, "probe %s: cannot read %s: %s", id, path, cause);
            return -1;
        }
        const int parsed = ds18b20_parse_w1_slave(text, id, millicelsius, error, capacity);
        if (parsed <= 0) return parsed;
    }
    snprintf(error, capacity,
             "probe %s: CRC check failed twice (w1_slave says NO: noise on the 1-Wire line? "
             "check the 4.7 kOhm pull-up)",
             id);
    return -1;
}
