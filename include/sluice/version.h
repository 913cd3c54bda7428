/*
 * sluice/version.h: the public version of Sluice, for programs that embed or talk to it.
 *
 * SLUICE_VERSION (a string such as "0.1.0") is defined by the build from meson's project
 * version; the numeric parts below must agree with it. The format versions are checked against
 * the modules that own each format with _Static_assert.
 */
#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H

#define SLUICE_VERSION_MAJOR 0
#define SLUICE_VERSION_MINOR 1
#define SLUICE_VERSION_PATCH 0

/* The on-disk formats this build reads and writes (see docs/storage.md). */
#define SLUICE_FORMAT_INDEX 1
#define SLUICE_FORMAT_STATE 1
#define SLUICE_FORMAT_TOPICS 1

#endif
