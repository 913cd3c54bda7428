/*
 * clock: monotonic and wall time behind an interface tests can replace.
 *
 * Time has its own types: mono_ns_t counts nanoseconds from an arbitrary start and never goes
 * backwards; wall_ms_t is milliseconds since the Unix epoch (Kafka's timestamp unit). Code that
 * makes decisions on time (segment age, retention, timeouts) takes a struct clock so tests can
 * drive it with clock_fake.
 */
#ifndef SLUICE_BASE_CLOCK_H
#define SLUICE_BASE_CLOCK_H

#include <stdint.h>

typedef uint64_t mono_ns_t;
typedef int64_t wall_ms_t;

struct clock {
	mono_ns_t (*mono_ns)(struct clock *c);
	wall_ms_t (*wall_ms)(struct clock *c);
};

/* The process-wide system clock (CLOCK_MONOTONIC and CLOCK_REALTIME). */
struct clock *clock_system(void);

static inline mono_ns_t clock_mono_ns(struct clock *c)
{
	return c->mono_ns(c);
}

static inline wall_ms_t clock_wall_ms(struct clock *c)
{
	return c->wall_ms(c);
}

/* A clock that moves only when told. */
struct clock_fake {
	struct clock clock;
	mono_ns_t mono;
	wall_ms_t wall;
};

void clock_fake_init(struct clock_fake *f, wall_ms_t wall_start);
/* Advances both times by `ms`. */
void clock_fake_advance_ms(struct clock_fake *f, int64_t ms);

#endif
