/*
 * list: an intrusive circular doubly linked list (libuv's QUEUE, spelled out), for the event-loop
 * modules that keep connections and queued writes on lists without allocating per entry.
 *
 * A head is a struct list_link initialised with list_init(); an entry embeds one and is
 * recovered with LIST_ENTRY(ptr, type, field).
 *
 * Invariants: an initialised link points at itself (empty, or not on a list); list_remove
 * leaves the removed link initialised.
 */
#ifndef SLUICE_BASE_LIST_H
#define SLUICE_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_link {
	struct list_link *prev;
	struct list_link *next;
};

static inline void list_init(struct list_link *l)
{
	l->prev = l;
	l->next = l;
}

static inline bool list_empty(const struct list_link *l)
{
	return l->next == l;
}

static inline void list_insert_tail(struct list_link *head, struct list_link *l)
{
	l->next = head;
	l->prev = head->prev;
	head->prev->next = l;
	head->prev = l;
}

static inline void list_remove(struct list_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	list_init(l);
}

#define LIST_ENTRY(ptr, type, field) ((type *)(void *)((char *)(ptr) - offsetof(type, field)))

#endif
