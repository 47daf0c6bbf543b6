#!/usr/bin/env python3
"""Generate the Cacti template source for the LVS-MIB data queries.

This is a maintainer tool, not used by the tests. It writes one XML file in
Cacti 1.2's template interchange format holding both data queries, the data
template they share and the graph templates. That file is only an input:
cacti-build-templates.sh imports it into a real Cacti and commits what
Cacti itself exports (contrib/cacti/templates/), so the shipped files are
Cacti's own output and import cleanly.

Hashes are derived from fixed names so that re-running the tool gives the
same objects, and a re-import updates rather than duplicates them. Stock
Cacti objects (the "Get SNMP Data (Indexed)" input method, the "Normal"
GPRINT, the "Turn Bytes into Bits" CDEF, the "5 Minute Collection" profile)
are referenced by their stock hashes.
"""

import hashlib
import sys
from xml.sax.saxutils import escape

VERSION = "0103"  # Cacti 1.2.24's hash version code

# Stock Cacti 1.2 objects.
DATA_INPUT_SNMP_INDEXED = "hash_030103bf566c869ac6443b0c75d1c32b5a350e"
GPRINT_NORMAL = "hash_060103e9c43831e54eca8069317a2ce8c6f751"
CDEF_BYTES_TO_BITS = "hash_05010373f95f8b77b5508157d64047342c421e"
PROFILE_5MIN = "hash_200103d62c52891f4f9688729a5bc9fad91b18"
# The input fields of "Get SNMP Data (Indexed)"; the three marked True are
# filled per data source from the data query.
DATA_INPUT_FIELDS = [
    ("92f5906c8dc0f964b41f4253df582c38", False),
    ("32285d5bf16e56c478f5e83f32cda9ef", False),
    ("ad14ac90641aed388139f6ba86a2e48b", False),
    ("617cdc8a230615e59f06f361ef6e7728", False),
    ("acb449d1451e8a2a655c2c99d31142c7", False),
    ("f4facc5e2ca7ebee621f09bc6d9fc792", False),
    ("1cc1493a6781af2c478fa4de971531cf", False),
    ("b5c23f246559df38662c255f4aa21d6b", False),
    ("6027a919c7c7731fbe095b6f53ab127b", True),   # index_type
    ("cbbe5c1ddfb264a6e5d509ce1c78c95f", True),   # index_value
    ("e6deda7be0f391399c5130e7c4a48b28", True),   # output_type
    ("c1f36ee60c3dc98945556d57f26e475b", False),
    ("2cf7129ad3ff819a7a7ac189bee48ce8", False),
    ("6b13ac0a0194e171d241d4b06f913158", False),
    ("3a33d4fc65b8329ab2ac46a36da26b72", False),
]

# Cacti codes.
COUNTER, GAUGE = 2, 1
AVERAGE, MAX, LAST = 1, 3, 4
LINE1, LINE2, AREA, GPRINT = 4, 5, 7, 9


def h(kind, key):
    """A Cacti hash: two-digit type code, version, md5 of a fixed name."""
    return "hash_%s%s%s" % (kind, VERSION, hashlib.md5(("lvs-agentx/" + key).encode()).hexdigest())


def bare(hashref):
    """The md5 part of a hash reference."""
    return hashref[len("hash_") + 6:]


# The data template: one RRD per service or real server with these DSs.
# Each is (DS name, type, data query output field). Both data queries name
# their output fields alike, so that one data template serves both.
DS = [
    ("conns", COUNTER, "lvsConns"),
    ("inpkts", COUNTER, "lvsInPkts"),
    ("outpkts", COUNTER, "lvsOutPkts"),
    ("inbytes", COUNTER, "lvsInBytes"),
    ("outbytes", COUNTER, "lvsOutBytes"),
    ("active", GAUGE, "lvsActiveConns"),
    ("inactive", GAUGE, "lvsInactiveConns"),
]
DT = h("01", "dt/stats")


def ds_hash(name):
    return h("08", "dt/stats/" + name)


# Graph templates: (key, name, vertical label, series), a series being
# (DS name, legend, colour, item type, CDEF or "0").
GRAPHS = [
    ("conns", "LVS - Connections", "connections per second",
     [("conns", "Connections", "4668E4", AREA, "0")]),
    ("packets", "LVS - Packets", "packets per second",
     [("inpkts", "Inbound", "00CF00", AREA, "0"), ("outpkts", "Outbound", "002A97", LINE2, "0")]),
    ("bits", "LVS - Traffic (bits/sec)", "bits per second",
     [("inbytes", "Inbound", "00CF00", AREA, CDEF_BYTES_TO_BITS),
      ("outbytes", "Outbound", "002A97", LINE2, CDEF_BYTES_TO_BITS)]),
    ("active", "LVS - Active/Inactive Connections", "connections",
     [("active", "Active", "FF7D00", AREA, "0"), ("inactive", "Inactive", "8F005C", LINE2, "0")]),
]

# The two data queries: (key, name, description, xml file, graph and data
# source title label).
QUERIES = [
    ("services", "LVS - Virtual Services",
     "Linux Virtual Server services from the LVS-MIB (lvsServiceTable)",
     "lvs_services.xml", "|query_lvsServiceName|"),
    ("realservers", "LVS - Real Servers",
     "Linux Virtual Server real servers from the LVS-MIB (lvsRealTable)",
     "lvs_realservers.xml", "|query_lvsRealServerName| (|query_lvsRealIndex|)"),
]

GRAPH_FIELDS = [
    ("title", ""), ("vertical_label", None), ("image_format_id", "1"), ("height", "200"),
    ("width", "700"), ("base_value", "1000"), ("slope_mode", "on"), ("auto_scale", "on"),
    ("auto_scale_opts", "2"), ("auto_scale_log", ""), ("scale_log_units", ""),
    ("auto_scale_rigid", ""), ("upper_limit", "100"), ("lower_limit", "0"),
    ("unit_value", ""), ("unit_exponent_value", ""), ("unit_length", ""), ("no_gridfit", ""),
    ("alt_y_grid", ""), ("right_axis", ""), ("right_axis_label", ""), ("right_axis_format", "0"),
    ("right_axis_formatter", ""), ("left_axis_formatter", ""), ("auto_padding", "on"),
    ("dynamic_labels", ""), ("force_rules_legend", ""), ("tab_width", ""),
    ("legend_position", ""), ("legend_direction", ""),
]


def graph_template(out, key, name, vlabel, series):
    gt = h("00", "gt/" + key)
    out.append("\t<%s>" % gt)
    out.append("\t\t<name>%s</name>" % escape(name))
    out.append("\t\t<multiple></multiple>\n\t\t<test_source></test_source>\n\t\t<graph>")
    for field, value in GRAPH_FIELDS:
        if field == "title":
            value = "|host_description| - " + name
        if value is None:
            value = vlabel
        out.append("\t\t\t<t_%s>%s</t_%s>" % (field, "", field))
        out.append("\t\t\t<%s>%s</%s>" % (field, escape(value), field))
    out.append("\t\t</graph>\n\t\t<items>")
    seq = 0
    inputs = []
    for ds, legend, colour, kind, cdef in series:
        members = []
        rows = [(kind, colour, "FF", AVERAGE, "%-10s" % legend, "")]
        rows += [(GPRINT, "0", "FF", LAST, "Current:", ""), (GPRINT, "0", "FF", AVERAGE, "Average:", ""),
                 (GPRINT, "0", "FF", MAX, "Maximum:", "on")]
        for gtype, col, alpha, cf, text, hr in rows:
            seq += 1
            item = h("10", "gt/%s/item%d" % (key, seq))
            members.append(item)
            out.append("\t\t\t<%s>" % item)
            for f, v in [("graph_type_id", gtype), ("task_item_id", ds_hash(ds)), ("color_id", col),
                         ("alpha", alpha), ("consolidation_function_id", cf), ("cdef_id", cdef),
                         ("vdef_id", "0"), ("shift", ""), ("value", ""), ("gprint_id", GPRINT_NORMAL),
                         ("textalign", ""), ("text_format", text), ("hard_return", hr),
                         ("line_width", "0.00"), ("dashes", ""), ("dash_offset", "0"), ("sequence", seq)]:
                out.append("\t\t\t\t<%s>%s</%s>" % (f, escape(str(v)), f))
            out.append("\t\t\t</%s>" % item)
        inputs.append((ds, legend, members))
    out.append("\t\t</items>\n\t\t<inputs>")
    for ds, legend, members in inputs:
        inp = h("09", "gt/%s/input/%s" % (key, ds))
        out.append("\t\t\t<%s>" % inp)
        out.append("\t\t\t\t<name>%s Data Source</name>" % escape(legend))
        out.append("\t\t\t\t<description></description>\n\t\t\t\t<column_name>task_item_id</column_name>")
        out.append("\t\t\t\t<items>%s</items>" % "|".join("hash_00" + VERSION + bare(m) for m in members))
        out.append("\t\t\t</%s>" % inp)
    out.append("\t\t</inputs>\n\t</%s>" % gt)


def data_template(out):
    out.append("\t<%s>" % DT)
    out.append("\t\t<name>LVS - Statistics</name>\n\t\t<ds>")
    out.append("\t\t\t<t_name></t_name>\n\t\t\t<name>|host_description| - LVS</name>")
    out.append("\t\t\t<data_source_path></data_source_path>")
    out.append("\t\t\t<data_input_id>%s</data_input_id>" % DATA_INPUT_SNMP_INDEXED)
    out.append("\t\t\t<t_data_source_profile_id></t_data_source_profile_id>")
    out.append("\t\t\t<data_source_profile_id>%s</data_source_profile_id>" % PROFILE_5MIN)
    out.append("\t\t\t<t_rrd_step></t_rrd_step>\n\t\t\t<rrd_step>300</rrd_step>")
    out.append("\t\t\t<t_active></t_active>\n\t\t\t<active>on</active>\n\t\t</ds>\n\t\t<items>")
    for name, dstype, _ in DS:
        item = ds_hash(name)
        out.append("\t\t\t<%s>" % item)
        for f, v in [("data_source_name", name), ("rrd_minimum", "0"), ("rrd_maximum", "U"),
                     ("data_source_type_id", dstype), ("rrd_heartbeat", "600"),
                     ("data_input_field_id", "0")]:
            out.append("\t\t\t\t<t_%s></t_%s>\n\t\t\t\t<%s>%s</%s>" % (f, f, f, v, f))
        out.append("\t\t\t</%s>" % item)
    out.append("\t\t</items>\n\t\t<data>")
    for i, (field, per_source) in enumerate(DATA_INPUT_FIELDS):
        out.append("\t\t\t<item_%03d>" % i)
        out.append("\t\t\t\t<data_input_field_id>hash_07%s%s</data_input_field_id>" % (VERSION, field))
        out.append("\t\t\t\t<t_value>%s</t_value>\n\t\t\t\t<value></value>" % ("on" if per_source else ""))
        out.append("\t\t\t</item_%03d>" % i)
    out.append("\t\t</data>\n\t</%s>" % DT)


def data_query(out, key, name, desc, xml, label):
    dq = h("04", "dq/" + key)
    out.append("\t<%s>" % dq)
    out.append("\t\t<name>%s</name>\n\t\t<description>%s</description>" % (escape(name), escape(desc)))
    out.append("\t\t<xml_path>&lt;path_cacti&gt;/resource/snmp_queries/%s</xml_path>" % xml)
    out.append("\t\t<data_input_id>%s</data_input_id>\n\t\t<graphs>" % DATA_INPUT_SNMP_INDEXED)
    for gkey, gname, _, _series in GRAPHS:
        qg = h("11", "dq/%s/%s" % (key, gkey))
        out.append("\t\t\t<%s>" % qg)
        out.append("\t\t\t\t<graph_template_id>%s</graph_template_id>" % h("00", "gt/" + gkey))
        out.append("\t\t\t\t<name>%s</name>\n\t\t\t\t<rrd>" % escape(gname[len("LVS - "):]))
        # Every graph maps all seven DSs, not only those it draws: Cacti
        # reuses a row's data source for another graph only when the
        # mappings agree, and polls the fields of the graph that made it.
        for i, (ds, _type, field) in enumerate(DS):
            out.append("\t\t\t\t\t<item_%03d>" % i)
            out.append("\t\t\t\t\t\t<snmp_field_name>%s</snmp_field_name>" % field)
            out.append("\t\t\t\t\t\t<data_template_id>%s</data_template_id>" % DT)
            out.append("\t\t\t\t\t\t<data_template_rrd_id>%s</data_template_rrd_id>" % ds_hash(ds))
            out.append("\t\t\t\t\t</item_%03d>" % i)
        out.append("\t\t\t\t</rrd>\n\t\t\t\t<sv_graph>")
        sv = h("12", "dq/%s/%s/title" % (key, gkey))
        out.append("\t\t\t\t\t<%s>\n\t\t\t\t\t\t<field_name>title</field_name>\n\t\t\t\t\t\t<sequence>1</sequence>" % sv)
        out.append("\t\t\t\t\t\t<text>|host_description| - LVS %s - %s</text>" % (escape(label), escape(gname[len("LVS - "):])))
        out.append("\t\t\t\t\t</%s>\n\t\t\t\t</sv_graph>\n\t\t\t\t<sv_data_source>" % sv)
        sv = h("13", "dq/%s/%s/name" % (key, gkey))
        out.append("\t\t\t\t\t<%s>\n\t\t\t\t\t\t<field_name>name</field_name>" % sv)
        out.append("\t\t\t\t\t\t<data_template_id>%s</data_template_id>\n\t\t\t\t\t\t<sequence>1</sequence>" % DT)
        out.append("\t\t\t\t\t\t<text>|host_description| - LVS %s</text>" % escape(label))
        out.append("\t\t\t\t\t</%s>\n\t\t\t\t</sv_data_source>" % sv)
        out.append("\t\t\t</%s>" % qg)
    out.append("\t\t</graphs>\n\t</%s>" % dq)


def main():
    out = ["<cacti>"]
    for q in QUERIES:
        data_query(out, *q)
    for g in GRAPHS:
        graph_template(out, *g)
    data_template(out)
    out.append("</cacti>")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
