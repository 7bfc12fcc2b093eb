/*
 * The ds18b20 plugin's configuration: a strict reader for the flat JSON object the host passes
 * to create(), accepting only the declared string keys "w1_path" and "id".
 * Thread-safety: pure functions over caller-owned memory.
 */
#ifndef SENSORSYS_DS18B20_CONFIG_H
#define SENSORSYS_DS18B20_CONFIG_H

#include <limits.h>
#include <stddef.h>

#define DS18B20_DEFAULT_W1_PATH "/sys/bus/w1/devices"
/* "28-" and 12 hex digits, with room to spare for other 1-Wire id shapes. */
#define DS18B20_ID_CAPACITY 32

typedef struct ds18b20_settings {
    char w1_path[PATH_MAX];
    char id[DS18B20_ID_CAPACITY]; /* empty: every 28-* probe found */
} ds18b20_settings;

/*
 * Parses `json` into `settings` (defaults first). Returns 0, or -1 with a message naming the
 * key and what it allows written into `error` (NUL-terminated, truncated to `capacity`).
 */
int ds18b20_parse_config(const char* json, ds18b20_settings* settings, char* error,
                         size_t capacity);

#endif /* SENSORSYS_DS18B20_CONFIG_H */
