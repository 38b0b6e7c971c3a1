#!/usr/bin/python3
"""Writes the PDF fixtures of //ingest/parse:pdf_parser_test (needs python3-reportlab).

  /usr/bin/python3 ingest/testdata/make_pdf.py ingest/testdata

sample.pdf: three pages of known text (page 2 has two paragraphs).
encrypted.pdf: one page, encrypted with a user password ("secret").
`invariant=1` keeps the output byte-identical between runs.
"""
import os
import sys

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas

PAGES = [
    ["Tessera sample document", "Page one talks about retrieval."],
    ["Page two covers chunking of long texts.", "", "A second paragraph on page two."],
    ["Page three ends the document with café."],
]


def write_sample(path):
    c = canvas.Canvas(path, pagesize=A4, invariant=1)
    c.setTitle("Tessera Sample")
    c.setAuthor("Tessera Tests")
    for lines in PAGES:
        y = A4[1] - 3 * cm
        c.setFont("Helvetica", 12)
        for line in lines:
            if line:
                c.drawString(2 * cm, y, line)
            y -= 1.2 * cm if not line else 0.6 * cm
        c.showPage()
    c.save()


def write_encrypted(path):
    c = canvas.Canvas(path, pagesize=A4, invariant=1, encrypt="secret")
    c.drawString(2 * cm, A4[1] - 3 * cm, "This text is locked.")
    c.showPage()
    c.save()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    write_sample(os.path.join(out, "sample.pdf"))
    write_encrypted(os.path.join(out, "encrypted.pdf"))


if __name__ == "__main__":
    main()
