/*
 * sensorsys plugin ABI — the only contract between the agent and a sensor plugin.
 *
 * Conventions
 * -----------
 * Shape.      A plugin is a shared object exporting exactly one function,
 *             SENSORSYS_PLUGIN_ENTRY (symbol "sensorsys_plugin_entry"). The host calls it
 *             with its own ABI version; the plugin returns a pointer to a static,
 *             immutable descriptor, or NULL to refuse a host it cannot work with.
 * Versioning. The descriptor starts with its own size and ABI version. A change of
 *             SENSORSYS_ABI_MAJOR breaks compatibility; a new SENSORSYS_ABI_MINOR only
 *             appends fields at the end of the descriptor. The host refuses a plugin
 *             with another major, or a newer minor than its own, and reads only the
 *             first `struct_size` bytes of a descriptor (older plugins keep working).
 * Ownership.  The descriptor and its strings belong to the plugin and live as long as
 *             the shared object is loaded. An instance made by `create` belongs to the
 *             host until it passes it to `destroy`. Every buffer passed into a plugin
 *             function (config text, output buffer, error buffer) belongs to the host
 *             and is valid only during that call. No memory is allocated on one side
 *             and freed on the other.
 * Threading.  `read` is never called concurrently on the same instance; different
 *             instances (of one or several plugins) are read in parallel on different
 *             threads, so plugin-global state must be read-only or synchronised. A read
 *             that passes the host's deadline is abandoned (the host stops waiting),
 *             and the instance is not called again until that read returns; a loaded
 *             plugin is never unloaded while a read may run.
 * Errors.     Functions return a sensorsys_status. On failure the plugin writes a short,
 *             NUL-terminated, human-readable message into the host's error buffer
 *             (truncating to its capacity) that says what failed and where, for example
 *             "no device at 0x77 on /dev/i2c-1 (ENXIO)". No exception, longjmp or C++
 *             type crosses this boundary.
 * Output.     `read` writes exactly one JSON object (UTF-8, not NUL-terminated) into the
 *             caller's buffer and stores its length. If the buffer is too small it
 *             returns SENSORSYS_BUFFER_TOO_SMALL and stores the length it needs; the host
 *             calls again with a larger buffer (up to its size cap).
 * Own threads. A plugin may start threads of its own in `create` (to watch GPIO edges,
 *             or to drive a sensor that needs a command every second) and must stop and
 *             join every one of them in `destroy`: nothing of an instance may run after
 *             `destroy` returns. `read` stays a snapshot of what such a thread gathered;
 *             it never waits for the next event.
 * Config keys. (ABI 1.1) A plugin lists the keys its `create` accepts in `config_keys`,
 *             so the host can show them (`--list-plugins --json`) and name the known ones
 *             when a key is refused. Hosts accept 1.0 plugins, which declare nothing.
 *
 * This header is plain C (C11 or later) and valid C++.
 */
#ifndef SENSORSYS_PLUGIN_H
#define SENSORSYS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SENSORSYS_ABI_MAJOR 1
#define SENSORSYS_ABI_MINOR 1

/* Name of the one exported entry symbol, for hosts that look it up by name. */
#define SENSORSYS_ENTRY_SYMBOL "sensorsys_plugin_entry"

typedef enum sensorsys_status {
    SENSORSYS_OK = 0,
    SENSORSYS_BUFFER_TOO_SMALL = 1, /* read: *length holds the size needed */
    SENSORSYS_INVALID_CONFIG = 2,   /* create: the configuration was refused */
    SENSORSYS_READ_FAILED = 3,      /* read: the sensor could not be read */
    SENSORSYS_INTERNAL_ERROR = 4    /* anything else, e.g. out of memory */
} sensorsys_status;

/* Opaque per-instance state, defined by each plugin. */
typedef struct sensorsys_instance sensorsys_instance;

/*
 * Make an instance from its configuration, a JSON object (UTF-8, NUL-terminated, "{}"
 * when nothing is configured). Keys a plugin does not know should be refused.
 */
typedef sensorsys_status (*sensorsys_create_fn)(const char* config_json,
                                                sensorsys_instance** instance, char* error,
                                                size_t error_capacity);

/* Take one reading into `buffer` (see "Output" above). */
typedef sensorsys_status (*sensorsys_read_fn)(sensorsys_instance* instance, char* buffer,
                                              size_t capacity, size_t* length, char* error,
                                              size_t error_capacity);

/* Release an instance. Never called while a read on it runs. NULL is accepted. */
typedef void (*sensorsys_destroy_fn)(sensorsys_instance* instance);

/*
 * ABI 1.1: one configuration key a plugin accepts. All strings are static, UTF-8 and
 * NUL-terminated. `type` is "string", "integer", "number" or "boolean" (how the host turns
 * `sensor.NAME.KEY = VALUE` into JSON); `default_value` is the value as a user would write it
 * in the properties file ("" when the key has no default); `description` is one line that
 * also says what is allowed ("0x76, 0x77 or auto (0x77, then 0x76)").
 */
typedef struct sensorsys_config_key {
    const char* name;
    const char* type;
    const char* default_value;
    const char* description;
} sensorsys_config_key;

/*
 * The descriptor. Fields are only ever appended; the first three never move.
 * The layout has no padding on 32- and 64-bit targets.
 */
typedef struct sensorsys_plugin_descriptor {
    uint32_t struct_size;         /* sizeof(sensorsys_plugin_descriptor) as the plugin was built */
    uint16_t abi_major;           /* SENSORSYS_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;           /* SENSORSYS_ABI_MINOR the plugin was built with */
    const char* name;             /* plugin name, [a-z0-9_]+, unique among loaded plugins */
    const char* version;          /* the plugin's own version, e.g. "1.2.0" */
    const char* description;      /* one line, for --list-plugins */
    sensorsys_create_fn create;   /* required */
    sensorsys_read_fn read;       /* required */
    sensorsys_destroy_fn destroy; /* required */
    /* ABI 1.1: the keys `create` accepts, ended by an entry whose name is NULL (at most 256).
     * The host refuses other sensor.NAME.KEY settings at start and passes each value as JSON
     * of the declared type. NULL (or a 1.0 descriptor, which ends before this field) declares
     * nothing: the host passes every key through as a 1.0 host did. */
    const sensorsys_config_key* config_keys;
} sensorsys_plugin_descriptor;

/* Size of the smallest descriptor a host accepts (ABI 1.0). */
#define SENSORSYS_DESCRIPTOR_V1_SIZE \
    (offsetof(sensorsys_plugin_descriptor, destroy) + sizeof(sensorsys_destroy_fn))

/* Convenience initialiser for the first three fields. */
#define SENSORSYS_DESCRIPTOR_HEADER \
    sizeof(sensorsys_plugin_descriptor), SENSORSYS_ABI_MAJOR, SENSORSYS_ABI_MINOR

typedef const sensorsys_plugin_descriptor* (*sensorsys_entry_fn)(uint16_t host_abi_major,
                                                                 uint16_t host_abi_minor);

#if defined(__GNUC__) || defined(__clang__)
#define SENSORSYS_EXPORT __attribute__((visibility("default")))
#else
#define SENSORSYS_EXPORT
#endif

/*
 * Declares the entry function; a plugin defines it:
 *
 *   SENSORSYS_PLUGIN_ENTRY(host_major, host_minor) {
 *       return host_major == SENSORSYS_ABI_MAJOR ? &descriptor : NULL;
 *   }
 */
#ifdef __cplusplus
#define SENSORSYS_PLUGIN_ENTRY(host_major, host_minor)                                     \
    extern "C" SENSORSYS_EXPORT const sensorsys_plugin_descriptor* sensorsys_plugin_entry( \
        uint16_t host_major, uint16_t host_minor)
#else
#define SENSORSYS_PLUGIN_ENTRY(host_major, host_minor)                          \
    SENSORSYS_EXPORT const sensorsys_plugin_descriptor* sensorsys_plugin_entry( \
        uint16_t host_major, uint16_t host_minor)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SENSORSYS_PLUGIN_H */
