/*
 * Reading fixed-width integers from packet and stream bytes (the caller
 * has checked the bytes are there).
 */
#ifndef REFEREE_CAP_BYTES_H
#define REFEREE_CAP_BYTES_H

#include <stdint.h>

static inline uint16_t
cap_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
cap_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static inline uint32_t
cap_le32(const uint8_t *p)
{
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[1] << 8) | p[0];
}

#endif
