import type { HolidayCalendar } from "../types.ts";

/**
 * Indonesia: national holidays (hari libur nasional) and collective leave (cuti bersama),
 * both treated as holidays by the gate (POJK 22/2023 Art. 62(2)).
 *
 * 2026 is the published list. 2027 is provisional until the SKB for 2027 is issued: fixed
 * dates follow the presidential decrees, lunar dates are estimated (noted per entry), and
 * no cuti bersama is listed because none has been decreed yet — add them when it is.
 */
export const ID_HOLIDAYS: HolidayCalendar = {
  id: "ID",
  years: [2026, 2027],
  sources: [
    "Keputusan Bersama Menteri Agama, Menteri Ketenagakerjaan dan Menteri PANRB Nomor 1497 Tahun 2025, Nomor 2 Tahun 2025, Nomor 5 Tahun 2025 tentang Hari Libur Nasional dan Cuti Bersama Tahun 2026 (SKB 3 Menteri), https://www.kemenkopmk.go.id",
    "Keppres 24/1953 as amended, Keppres 19/2002 (Imlek), Keppres 24/2013 (1 Mei), Keppres 24/2016 (1 Juni), Keppres 8/2024 (Paskah), https://peraturan.bpk.go.id",
  ],
  holidays: [
    // 2026 — SKB 3 Menteri 1497/2/5 Tahun 2025: 17 national holidays, 8 days of cuti bersama.
    { date: "2026-01-01", name: "Tahun Baru 2026 Masehi", type: "public-holiday", status: "published" },
    { date: "2026-01-16", name: "Isra Mikraj Nabi Muhammad SAW", type: "public-holiday", status: "published" },
    { date: "2026-02-16", name: "Cuti Bersama Tahun Baru Imlek", type: "collective-leave", status: "published" },
    { date: "2026-02-17", name: "Tahun Baru Imlek 2577 Kongzili", type: "public-holiday", status: "published" },
    { date: "2026-03-18", name: "Cuti Bersama Hari Suci Nyepi", type: "collective-leave", status: "published" },
    { date: "2026-03-19", name: "Hari Suci Nyepi (Tahun Baru Saka 1948)", type: "public-holiday", status: "published" },
    { date: "2026-03-20", name: "Cuti Bersama Idulfitri 1447 H", type: "collective-leave", status: "published" },
    { date: "2026-03-21", name: "Idulfitri 1447 H", type: "public-holiday", status: "published" },
    { date: "2026-03-22", name: "Idulfitri 1447 H (hari kedua)", type: "public-holiday", status: "published" },
    { date: "2026-03-23", name: "Cuti Bersama Idulfitri 1447 H", type: "collective-leave", status: "published" },
    { date: "2026-03-24", name: "Cuti Bersama Idulfitri 1447 H", type: "collective-leave", status: "published" },
    { date: "2026-04-03", name: "Wafat Yesus Kristus", type: "public-holiday", status: "published" },
    { date: "2026-04-05", name: "Kebangkitan Yesus Kristus (Paskah)", type: "public-holiday", status: "published" },
    { date: "2026-05-01", name: "Hari Buruh Internasional", type: "public-holiday", status: "published" },
    { date: "2026-05-14", name: "Kenaikan Yesus Kristus", type: "public-holiday", status: "published" },
    { date: "2026-05-15", name: "Cuti Bersama Kenaikan Yesus Kristus", type: "collective-leave", status: "published" },
    { date: "2026-05-27", name: "Iduladha 1447 H", type: "public-holiday", status: "published" },
    { date: "2026-05-28", name: "Cuti Bersama Iduladha 1447 H", type: "collective-leave", status: "published" },
    { date: "2026-05-31", name: "Hari Raya Waisak 2570 BE", type: "public-holiday", status: "published" },
    { date: "2026-06-01", name: "Hari Lahir Pancasila", type: "public-holiday", status: "published" },
    { date: "2026-06-16", name: "1 Muharam Tahun Baru Islam 1448 H", type: "public-holiday", status: "published" },
    { date: "2026-08-17", name: "Hari Proklamasi Kemerdekaan RI", type: "public-holiday", status: "published" },
    { date: "2026-08-25", name: "Maulid Nabi Muhammad SAW", type: "public-holiday", status: "published" },
    { date: "2026-12-24", name: "Cuti Bersama Kelahiran Yesus Kristus", type: "collective-leave", status: "published" },
    { date: "2026-12-25", name: "Kelahiran Yesus Kristus", type: "public-holiday", status: "published" },

    // 2027 — provisional: SKB for 2027 not yet incorporated.
    // statutory fixed date (Keppres 24/1953)
    { date: "2027-01-01", name: "Tahun Baru 2027 Masehi", type: "public-holiday", status: "provisional" },
    // estimated: 27 Rajab 1448 H (hisab)
    { date: "2027-01-05", name: "Isra Mikraj Nabi Muhammad SAW", type: "public-holiday", status: "provisional" },
    // estimated: 1st day of the 1st Chinese month (new moon of 6 Feb 2027)
    { date: "2027-02-06", name: "Tahun Baru Imlek 2578 Kongzili", type: "public-holiday", status: "provisional" },
    // estimated: Balinese Saka calendar, day after Tilem Kesanga
    {
      date: "2027-03-08",
      name: "Hari Suci Nyepi (Tahun Baru Saka 1949)",
      type: "public-holiday",
      status: "provisional",
    },
    // estimated: 1 Syawal 1448 H (MABIMS criteria; the crescent is too young on 8 March)
    { date: "2027-03-10", name: "Idulfitri 1448 H", type: "public-holiday", status: "provisional" },
    // estimated: 2 Syawal 1448 H
    { date: "2027-03-11", name: "Idulfitri 1448 H (hari kedua)", type: "public-holiday", status: "provisional" },
    // statutory: Good Friday 2027 (Easter is 28 March)
    { date: "2027-03-26", name: "Wafat Yesus Kristus", type: "public-holiday", status: "provisional" },
    // statutory: Easter Sunday (Keppres 8/2024)
    { date: "2027-03-28", name: "Kebangkitan Yesus Kristus (Paskah)", type: "public-holiday", status: "provisional" },
    // statutory fixed date (Keppres 24/2013)
    { date: "2027-05-01", name: "Hari Buruh Internasional", type: "public-holiday", status: "provisional" },
    // statutory: Ascension, Easter + 39 days
    { date: "2027-05-06", name: "Kenaikan Yesus Kristus", type: "public-holiday", status: "provisional" },
    // estimated: 10 Zulhijah 1448 H
    { date: "2027-05-17", name: "Iduladha 1448 H", type: "public-holiday", status: "provisional" },
    // estimated: full moon of May 2027
    { date: "2027-05-20", name: "Hari Raya Waisak 2571 BE", type: "public-holiday", status: "provisional" },
    // statutory fixed date (Keppres 24/2016)
    { date: "2027-06-01", name: "Hari Lahir Pancasila", type: "public-holiday", status: "provisional" },
    // estimated: 1 Muharam 1449 H
    { date: "2027-06-06", name: "1 Muharam Tahun Baru Islam 1449 H", type: "public-holiday", status: "provisional" },
    // estimated: 12 Rabiulawal 1449 H
    { date: "2027-08-15", name: "Maulid Nabi Muhammad SAW", type: "public-holiday", status: "provisional" },
    // statutory fixed date
    { date: "2027-08-17", name: "Hari Proklamasi Kemerdekaan RI", type: "public-holiday", status: "provisional" },
    // statutory fixed date
    { date: "2027-12-25", name: "Kelahiran Yesus Kristus", type: "public-holiday", status: "provisional" },
  ],
};
