/*
 * crc32c: CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum of
 * Kafka's RecordBatch v2 and of every Sluice file format.
 *
 * crc32c() uses the SSE4.2 instruction when the CPU has it (checked once, at first use) and a
 * slicing-by-8 table otherwise. Both are exported so tests can hold them to the same vectors.
 * `crc` is the running value: start with 0, pass the previous result to continue.
 */
#ifndef SLUICE_BASE_CRC32C_H
#define SLUICE_BASE_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *p, size_t n);
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);
/* Only valid when crc32c_hw_available() returns true. */
uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n);
bool crc32c_hw_available(void);

#endif
