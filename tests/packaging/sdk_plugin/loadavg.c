/* loadavg: the 1-minute load average from /proc/loadavg. A third party's plugin: built out of
 * tree against the installed sensorsys-dev package only (tests/packaging/sdk_test.sh). */
#include <sensorsys/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sensorsys_instance {
    char path[256];
};

static sensorsys_status loadavg_create(const char* config, sensorsys_instance** out, char* error,
                                       size_t error_capacity) {
    if (strcmp(config, "{}") != 0) {
        snprintf(error, error_capacity, "loadavg: takes no settings, got %s", config);
        return SENSORSYS_INVALID_CONFIG;
    }
    sensorsys_instance* self = malloc(sizeof *self);
    if (self == NULL) return SENSORSYS_INTERNAL_ERROR;
    snprintf(self->path, sizeof self->path, "%s", "/proc/loadavg");
    *out = self;
    return SENSORSYS_OK;
}

static sensorsys_status loadavg_read(sensorsys_instance* self, char* buffer, size_t capacity,
                                     size_t* length, char* error, size_t error_capacity) {
    double one_minute = -1;
    FILE* file = fopen(self->path, "r");
    if (file == NULL || fscanf(file, "%lf", &one_minute) != 1) {
        snprintf(error, error_capacity, "loadavg: cannot read %s", self->path);
        if (file != NULL) fclose(file);
        return SENSORSYS_READ_FAILED;
    }
    fclose(file);
    char json[64];
    int n = snprintf(json, sizeof json, "{\"one_minute\": %.2f}", one_minute);
    if (n < 0) return SENSORSYS_INTERNAL_ERROR;
    *length = (size_t)n;
    if (*length > capacity) return SENSORSYS_BUFFER_TOO_SMALL;
    memcpy(buffer, json, *length);
    return SENSORSYS_OK;
}

static void loadavg_destroy(sensorsys_instance* self) {
    free(self);
}

static const sensorsys_config_key keys[] = {{NULL, NULL, NULL, NULL}}; /* takes none */

static const sensorsys_plugin_descriptor descriptor = {SENSORSYS_DESCRIPTOR_HEADER,
                                                       "loadavg",
                                                       "2.3.4",
                                                       "1-minute load average",
                                                       loadavg_create,
                                                       loadavg_read,
                                                       loadavg_destroy,
                                                       keys};

SENSORSYS_PLUGIN_ENTRY(host_major, host_minor) {
    (void)host_minor;
    return host_major == SENSORSYS_ABI_MAJOR ? &descriptor : NULL;
}
