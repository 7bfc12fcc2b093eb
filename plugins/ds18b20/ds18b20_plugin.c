/*
 * The ds18b20 plugin: DS18B20 1-Wire temperature probes through the kernel's w1_therm driver,
 * several on one bus. Plain C11 against plugin.h alone: the proof that the SDK suffices (it is
 * built out of tree against an installed SDK by tests/e2e/sdk_ds18b20_test.sh).
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <sensorsys/plugin.h>

#include "ds18b20_config.h"
#include "ds18b20_probe.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SENSORSYS_DS18B20_VERSION
#define SENSORSYS_DS18B20_VERSION "0.1.0"
#endif

/* More probes than one w1-gpio bus powers reliably. */
#define MAX_PROBES 64
/* Each probe takes about 750 ms (12-bit conversion, done by the kernel on every read), a CRC
 * retry twice that: probes not started within this budget are reported as skipped, so a read
 * ends well within the agent's default 5 s read deadline however many probes there are. */
#define READ_BUDGET_MS 3000

struct sensorsys_instance {
    ds18b20_settings settings;
    char* pending; /* a reading a too-small buffer could not take, returned by the retry */
    size_t pending_length;
};

/* A growing output text; `failed` is set once an allocation failed. */
typedef struct text {
    char* data;
    size_t length;
    size_t capacity;
    int failed;
} text;

static void append(text* t, const char* s, size_t n) {
    if (t->failed) return;
    if (t->length + n + 1 > t->capacity) {
        size_t capacity = t->capacity ? t->capacity * 2 : 256;
        while (capacity < t->length + n + 1) capacity *= 2;
        char* grown = realloc(t->data, capacity);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->capacity = capacity;
    }
    memcpy(t->data + t->length, s, n);
    t->length += n;
    t->data[t->length] = '\0';
}

static void append_text(text* t, const char* s) {
    append(t, s, strlen(s));
}

static void append_json_string(text* t, const char* s) {
    append_text(t, "\"");
    for (; *s; ++s) {
        const unsigned char c = (unsigned char)*s;
        char escape[8];
        if (c == '"' || c == '\\') {
            snprintf(escape, sizeof escape, "\\%c", c);
        } else if (c < 0x20) {
            snprintf(escape, sizeof escape, "\\u%04x", c);
        } else {
            append(t, s, 1);
            continue;
        }
        append_text(t, escape);
    }
    append_text(t, "\"");
}

/* Hundredths as a JSON number without trailing zeros but with a decimal point, as cpu_temp
 * writes them (Python's float repr): 2156 -> 21.56, 2150 -> 21.5, 2500 -> 25.0. */
static void append_hundredths(text* t, long hundredths) {
    char number[32];
    const unsigned long magnitude =
        hundredths < 0 ? (unsigned long)-hundredths : (unsigned long)hundredths;
    const unsigned long fraction = magnitude % 100;
    const char* sign = hundredths < 0 ? "-" : "";
    if (fraction == 0) {
        snprintf(number, sizeof number, "%s%lu.0", sign, magnitude / 100);
    } else if (fraction % 10 == 0) {
        snprintf(number, sizeof number, "%s%lu.%lu", sign, magnitude / 100, fraction / 10);
    } else {
        snprintf(number, sizeof number, "%s%lu.%02lu", sign, magnitude / 100, fraction);
    }
    append_text(t, number);
}

/* n / d rounded half away from zero, for d > 0. */
static long divide_rounded(long n, long d) {
    return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}

/* {"c": 21.56, "f": 70.81} from millidegrees Celsius, in integers so no rounding drifts. */
static void append_temperature(text* t, long millicelsius) {
    append_text(t, "{\"c\": ");
    append_hundredths(t, divide_rounded(millicelsius, 10));
    append_text(t, ", \"f\": ");
    /* F = C * 9/5 + 32, in hundredths: (m * 9 / 5 + 32000) / 10 = (m * 9 + 160000) / 50 */
    append_hundredths(t, divide_rounded(millicelsius * 9 + 160000, 50));
    append_text(t, "}");
}

static void write_error(char* error, size_t capacity, const char* message) {
    if (error && capacity > 0) snprintf(error, capacity, "%s", message);
}

static sensorsys_status create(const char* config_json, sensorsys_instance** instance, char* error,
                               size_t error_capacity) {
    ds18b20_settings settings;
    if (ds18b20_parse_config(config_json, &settings, error, error_capacity) != 0) {
        return SENSORSYS_INVALID_CONFIG;
    }
    sensorsys_instance* made = calloc(1, sizeof *made);
    if (!made) {
        write_error(error, error_capacity, "out of memory");
        return SENSORSYS_INTERNAL_ERROR;
    }
    made->settings = settings;
    *instance = made;
    return SENSORSYS_OK;
}

static void destroy(sensorsys_instance* instance) {
    if (!instance) return;
    free(instance->pending);
    free(instance);
}

static int compare_ids(const void* a, const void* b) {
    return strcmp((const char*)a, (const char*)b);
}

/* The 28-* entries of `w1_path`, sorted; returns their count, or -1 with `error` set. */
static int find_probes(const char* w1_path, char ids[][DS18B20_ID_CAPACITY], char* error,
                       size_t capacity) {
    DIR* dir = opendir(w1_path);
    if (!dir) {
        const int code = errno;
        const char* name = strerrorname_np(code);
        snprintf(error, capacity,
                 "cannot open 1-Wire device folder %s: %s: %s (is dtoverlay=w1-gpio set in "
                 "/boot/firmware/config.txt?)",
                 w1_path, name ? name : "errno", strerror(code));
        return -1;
    }
    int count = 0;
    const struct dirent* entry;
    while ((entry = readdir(dir)) != NULL && count < MAX_PROBES) {
        if (strncmp(entry->d_name, "28-", 3) != 0) continue;
        const size_t n = strlen(entry->d_name);
        if (n >= DS18B20_ID_CAPACITY) continue;
        memcpy(ids[count++], entry->d_name, n + 1);
    }
    closedir(dir);
    if (count == 0) {
        snprintf(error, capacity, "no DS18B20 probe (28-*) in %s", w1_path);
        return -1;
    }
    qsort(ids, (size_t)count, DS18B20_ID_CAPACITY, compare_ids);
    return count;
}

static long elapsed_ms(const struct timespec* start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000L + (now.tv_nsec - start->tv_nsec) / 1000000L;
}

/* One probe's entry in the payload: "28-...": {"c": .., "f": ..} or {"error": "..."}.
 * Returns 1 for a reading; on failure the message is also kept in `first_error` if empty. */
static int append_probe(text* out, const char* w1_path, const char* id, int skipped,
                        char* first_error, size_t capacity) {
    char message[512];
    long millicelsius = 0;
    int ok = 0;
    if (skipped) {
        snprintf(message, sizeof message,
                 "probe %s: not read, earlier probes used the %d ms read budget", id,
                 READ_BUDGET_MS);
    } else {
        ok = ds18b20_read_probe(w1_path, id, &millicelsius, message, sizeof message) == 0;
    }
    append_json_string(out, id);
    append_text(out, ": ");
    if (ok) {
        append_temperature(out, millicelsius);
        return 1;
    }
    append_text(out, "{\"error\": ");
    append_json_string(out, message);
    append_text(out, "}");
    if (first_error[0] == '\0') snprintf(first_error, capacity, "%s", message);
    return 0;
}

/* Every probe found, one key each. Returns 0, or -1 with `error` set when none could be read. */
static int read_all(const ds18b20_settings* settings, text* out, char* error, size_t capacity) {
    char ids[MAX_PROBES][DS18B20_ID_CAPACITY];
    const int count = find_probes(settings->w1_path, ids, error, capacity);
    if (count < 0) return -1;
    char first_error[512] = "";
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int good = 0;
    append_text(out, "{");
    for (int i = 0; i < count; ++i) {
        if (i > 0) append_text(out, ", ");
        const int skipped = i > 0 && elapsed_ms(&start) > READ_BUDGET_MS;
        good +=
            append_probe(out, settings->w1_path, ids[i], skipped, first_error, sizeof first_error);
    }
    append_text(out, "}");
    if (good == 0) {
        snprintf(error, capacity, "none of the %d DS18B20 probes in %s could be read; first: %s",
                 count, settings->w1_path, first_error);
        return -1;
    }
    return 0;
}

/* Hands the pending reading to the host's buffer, or asks for a larger one (plugin.h). */
static sensorsys_status deliver(sensorsys_instance* instance, char* buffer, size_t capacity,
                                size_t* length) {
    *length = instance->pending_length;
    if (!buffer || instance->pending_length > capacity) return SENSORSYS_BUFFER_TOO_SMALL;
    memcpy(buffer, instance->pending, instance->pending_length);
    free(instance->pending);
    instance->pending = NULL;
    instance->pending_length = 0;
    return SENSORSYS_OK;
}

static sensorsys_status read_probes(sensorsys_instance* instance, char* buffer, size_t capacity,
                                    size_t* length, char* error, size_t error_capacity) {
    if (instance->pending) return deliver(instance, buffer, capacity, length);
    const ds18b20_settings* settings = &instance->settings;
    text out = {NULL, 0, 0, 0};
    int result;
    if (settings->id[0] != '\0') {
        long millicelsius = 0;
        result = ds18b20_read_probe(settings->w1_path, settings->id, &millicelsius, error,
                                    error_capacity);
        if (result == 0) append_temperature(&out, millicelsius);
    } else {
        result = read_all(settings, &out, error, error_capacity);
    }
    if (result != 0 || out.failed) {
        free(out.data);
        if (result != 0) return SENSORSYS_READ_FAILED;
        write_error(error, error_capacity, "out of memory");
        return SENSORSYS_INTERNAL_ERROR;
    }
    instance->pending = out.data;
    instance->pending_length = out.length;
    return deliver(instance, buffer, capacity, length);
}

static const sensorsys_config_key config_keys[] = {
    {"w1_path", "string", DS18B20_DEFAULT_W1_PATH,
     "folder of the kernel's 1-Wire devices, one 28-* folder per probe"},
    {"id", "string", "",
     "read only this probe (e.g. 28-0316a2794dff), as a flat {\"c\", \"f\"} payload; empty: "
     "every probe, one key each"},
    {NULL, NULL, NULL, NULL}};

static const sensorsys_plugin_descriptor descriptor = {
    SENSORSYS_DESCRIPTOR_HEADER,
    "ds18b20",
    SENSORSYS_DS18B20_VERSION,
    "DS18B20 1-Wire temperature probes (one or several on a w1-gpio bus)",
    create,
    read_probes,
    destroy,
    config_keys};

SENSORSYS_PLUGIN_ENTRY(host_major, host_minor) {
    (void)host_minor;
    return host_major == SENSORSYS_ABI_MAJOR ? &descriptor : NULL;
}
