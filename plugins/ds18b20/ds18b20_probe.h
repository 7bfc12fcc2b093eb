/*
 * One DS18B20 probe as the kernel's w1_therm driver shows it: <w1_path>/<id>/w1_slave, whose
 * first line ends in YES when the scratchpad's CRC matched and whose second holds t=<m°C>.
 * Thread-safety: pure functions over caller-owned memory (each call reads the file afresh).
 */
#ifndef SENSORSYS_DS18B20_PROBE_H
#define SENSORSYS_DS18B20_PROBE_H

#include <stddef.h>

/* What the probe's power-on scratchpad holds: a conversion never happened. */
#define DS18B20_POWER_ON_MILLICELSIUS 85000L

/*
 * Reads the probe `id` under `w1_path` into *millicelsius, retrying once when the driver reports
 * a CRC mismatch. Returns 0, or -1 with a message naming the probe or the file (and the errno
 * name where the system gave one) written into `error`.
 */
int ds18b20_read_probe(const char* w1_path, const char* id, long* millicelsius, char* error,
                       size_t capacity);

/*
 * Parses the text of a w1_slave file. Returns 0 with *millicelsius set, 1 when the CRC line
 * says NO, or -1 with a message in `error` when the text is not what w1_therm writes.
 */
int ds18b20_parse_w1_slave(const char* text, const char* id, long* millicelsius, char* error,
                           size_t capacity);

#endif /* SENSORSYS_DS18B20_PROBE_H */
