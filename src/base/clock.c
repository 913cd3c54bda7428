/*
 * clock: the system clock and the fake clock for tests (see clock.h).
 *
 * The system clock reads CLOCK_MONOTONIC for mono_ns_t and CLOCK_REALTIME for wall_ms_t. It has no
 * state, so one static instance serves every thread. The fake clock starts its monotonic time at
 * 0 and its wall time where the test says, and moves both only in clock_fake_advance_ms().
 *
 * Invariants:
 *   1. mono_ns never decreases, on either clock (the fake refuses to go back).
 */
#include "base/clock.h"

#include <assert.h>
#include <stddef.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL
#define NS_PER_MS 1000000LL
#define MS_PER_SEC 1000LL

static mono_ns_t system_mono_ns(struct clock *c)
{
	struct timespec ts;

	(void)c;
	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer; a failure is our bug. */
	int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
	assert(rc == 0);
	(void)rc;
	return (mono_ns_t)ts.tv_sec * NS_PER_SEC + (mono_ns_t)ts.tv_nsec;
}

static wall_ms_t system_wall_ms(struct clock *c)
{
	struct timespec ts;

	(void)c;
	int rc = clock_gettime(CLOCK_REALTIME, &ts);
	assert(rc == 0);
	(void)rc;
	return (wall_ms_t)ts.tv_sec * MS_PER_SEC + (wall_ms_t)(ts.tv_nsec / NS_PER_MS);
}

static struct clock system_clock = {
	.mono_ns = system_mono_ns,
	.wall_ms = system_wall_ms,
};

struct clock *clock_system(void)
{
	return &system_clock;
}

/* Returns the fake clock whose `clock` member is `c`. */
static struct clock_fake *fake_of(struct clock *c)
{
	return (struct clock_fake *)(void *)((char *)c - offsetof(struct clock_fake, clock));
}

static mono_ns_t fake_mono_ns(struct clock *c)
{
	struct clock_fake *f = fake_of(c);

	return f->mono;
}

static wall_ms_t fake_wall_ms(struct clock *c)
{
	struct clock_fake *f = fake_of(c);

	return f->wall;
}

/* The monotonic time starts at 0; tests may also set `mono` and `wall` directly. */
void clock_fake_init(struct clock_fake *f, wall_ms_t wall_start)
{
	f->clock.mono_ns = fake_mono_ns;
	f->clock.wall_ms = fake_wall_ms;
	f->mono = 0;
	f->wall = wall_start;
}

/* `ms` must be >= 0: monotonic time never goes back, and a test asking for that has a bug. */
void clock_fake_advance_ms(struct clock_fake *f, int64_t ms)
{
	assert(ms >= 0);
	f->mono += (mono_ns_t)ms * (mono_ns_t)NS_PER_MS;
	f->wall += ms;
}
