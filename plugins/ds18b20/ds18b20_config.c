#define _GNU_SOURCE /* PATH_MAX from <limits.h> under -std=c11 */
#include "ds18b20_config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One parse: the text, where it is, and where a refusal goes. */
typedef struct parser {
    const char* at;
    char* error;
    size_t capacity;
} parser;

static int fail(parser* p, const char* format, ...) {
    va_list args;
    va_start(args, format);
    if (p->error && p->capacity > 0) vsnprintf(p->error, p->capacity, format, args);
    va_end(args);
    return -1;
}

static void skip_space(parser* p) {
    while (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r') ++p->at;
}

static int escaped(char c, char* out) {
    switch (c) {
        case '"':
        case '\\':
        case '/':
            *out = c;
            return 0;
        case 'b':
            *out = '\b';
            return 0;
        case 'f':
            *out = '\f';
            return 0;
        case 'n':
            *out = '\n';
            return 0;
        case 'r':
            *out = '\r';
            return 0;
        case 't':
            *out = '\t';
            return 0;
        default:
            return -1; /* \uXXXX is not needed for paths and probe ids */
    }
}

/* Reads a JSON string at p->at into `out`; `what` names it in messages. */
static int read_string(parser* p, char* out, size_t size, const char* what) {
    if (*p->at != '"') return fail(p, "%s must be a string", what);
    ++p->at;
    size_t n = 0;
    while (*p->at != '"') {
        char c = *p->at;
        if (c == '\0' || (unsigned char)c < 0x20) return fail(p, "%s: unterminated string", what);
        if (c == '\\') {
            ++p->at;
            if (escaped(*p->at, &c) != 0) return fail(p, "%s: unsupported escape", what);
        }
        if (n + 1 >= size) return fail(p, "%s is longer than %zu bytes", what, size - 1);
        out[n++] = c;
        ++p->at;
    }
    ++p->at;
    out[n] = '\0';
    return 0;
}

static int valid_id(const char* id) {
    if (strncmp(id, "28-", 3) != 0 || strlen(id) != 15) return 0;
    for (const char* c = id + 3; *c; ++c) {
        if (!isxdigit((unsigned char)*c)) return 0;
    }
    return 1;
}

static int store(parser* p, const char* key, ds18b20_settings* settings, int seen[2]) {
    const int is_path = strcmp(key, "w1_path") == 0;
    if (!is_path && strcmp(key, "id") != 0) {
        return fail(p, "unknown key '%s' (allowed: w1_path, id)", key);
    }
    if (seen[is_path]++) return fail(p, "key '%s' given twice", key);
    const char* what = is_path ? "key 'w1_path'" : "key 'id'";
    if (is_path) {
        if (read_string(p, settings->w1_path, sizeof settings->w1_path, what) != 0) return -1;
        if (settings->w1_path[0] != '/') {
            return fail(p, "key 'w1_path' must be an absolute directory path, got \"%s\"",
                        settings->w1_path);
        }
        return 0;
    }
    if (read_string(p, settings->id, sizeof settings->id, what) != 0) return -1;
    if (settings->id[0] != '\0' && !valid_id(settings->id)) {
        return fail(p, "key 'id' must be a DS18B20 id such as 28-0316a2794dff, got \"%s\"",
                    settings->id);
    }
    return 0;
}

int ds18b20_parse_config(const char* json, ds18b20_settings* settings, char* error,
                         size_t capacity) {
    parser p = {json ? json : "{}", error, capacity};
    int seen[2] = {0, 0};
    snprintf(settings->w1_path, sizeof settings->w1_path, "%s", DS18B20_DEFAULT_W1_PATH);
    settings->id[0] = '\0';
    skip_space(&p);
    if (*p.at != '{') return fail(&p, "configuration must be a JSON object");
    ++p.at;
    skip_space(&p);
    if (*p.at == '}') {
        ++p.at;
    } else {
        for (;;) {
            char key[64];
            if (read_string(&p, key, sizeof key, "a configuration key") != 0) return -1;
            skip_space(&p);
            if (*p.at++ != ':') return fail(&p, "configuration is not valid JSON: ':' expected");
            skip_space(&p);
            if (store(&p, key, settings, seen) != 0) return -1;
            skip_space(&p);
            if (*p.at == '}') break;
            if (*p.at++ != ',') return fail(&p, "configuration is not valid JSON: ',' expected");
            skip_space(&p);
        }
        ++p.at;
    }
    skip_space(&p);
    if (*p.at != '\0') return fail(&p, "configuration is not valid JSON: text after the object");
    return 0;
}
