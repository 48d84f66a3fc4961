/*
 * dcap_time.c - the times of DCAP collateral and of `--at`: RFC 3339 (the PCS writes
 * "2025-06-19T10:56:11Z") and Unix seconds, converted without the C library's time zone state
 * (days from the civil date, Howard Hinnant's algorithm), so it is thread safe.
 */
#include <stdint.h>

#include <stdio.h>

#include "dcap/collateral.h"

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s[*i]. */
static bool
digits(const char *s, size_t len, size_t *i, unsigned n, unsigned *out)
{
    unsigned v = 0;

    if (len - *i < n)
        return false;
    for (unsigned k = 0; k < n; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *i += n;
    *out = v;
    return true;
}

static bool
expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

static bool
parse_unix(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;

    if (len == 0 || len > 12)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool
parse_offset(const char *s, size_t len, size_t *i, int64_t *off)
{
    unsigned oh, om;
    int sign;

    if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
        (*i)++;
        *off = 0;
        return true;
    }
    if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
        return false;
    sign = s[*i] == '-' ? -1 : 1;
    (*i)++;
    if (!digits(s, len, i, 2, &oh) || !expect(s, len, i, ':') || !digits(s, len, i, 2, &om) ||
        oh > 23 || om > 59)
        return false;
    *off = sign * (int64_t)(oh * 3600 + om * 60);
    return true;
}

int64_t
cas_dcap_time_from_civil(int64_t year, unsigned month, unsigned day, unsigned hour, unsigned min,
                         unsigned sec)
{
    return days_from_civil(year, month, day) * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 +
           (int64_t)sec;
}

bool
cas_dcap_time_parse(const char *s, size_t len, bool unix_ok, int64_t *out)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec, frac;
    size_t i = 0;
    int64_t off;

    if (unix_ok && parse_unix(s, len, out))
        return true;
    if (!digits(s, len, &i, 4, &y) || !expect(s, len, &i, '-') || !digits(s, len, &i, 2, &mo) ||
        !expect(s, len, &i, '-') || !digits(s, len, &i, 2, &d) ||
        !(expect(s, len, &i, 'T') || expect(s, len, &i, 't')) || !digits(s, len, &i, 2, &h) ||
        !expect(s, len, &i, ':') || !digits(s, len, &i, 2, &mi) || !expect(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &sec))
        return false;
    if (expect(s, len, &i, '.')) {
        if (!digits(s, len, &i, 1, &frac))
            return false;
        while (digits(s, len, &i, 1, &frac))
            ;
    }
    if (!parse_offset(s, len, &i, &off) || i != len)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 ||
        (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return false;
    if (sec == 60) /* a leap second counts as the next one */
        sec = 59;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)(h * 3600 + mi * 60 + sec) - off;
    return true;
}

void
cas_dcap_time_format(int64_t t, char out[21])
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), y;
    int64_t rem = t - days * 86400;
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        (void)snprintf(out, 21, "out-of-range");
        return;
    }
    /* The moduli only tell the compiler the ranges the arithmetic already guarantees. */
    (void)snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u, m % 13u,
                   d % 32u, (unsigned)(rem / 3600) % 24u, (unsigned)(rem % 3600 / 60) % 60u,
                   (unsigned)(rem % 60) % 60u);
}
