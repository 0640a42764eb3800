/** Writes the sample documents in samples/ (run once; the results are committed): `npx tsx examples/document-pipeline/make-samples.ts` */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PDFDocument, StandardFonts } from 'pdf-lib'

export const SAMPLES: Record<string, string[]> = {
  'invoice.pdf': [
    'INVOICE',
    'Invoice Number: INV-2026-0042',
    'Invoice date: 2026-11-02          Due date: 2026-12-02',
    'From: Northwind Analytics Ltd',
    'Bill to: Contoso Robotics Inc.',
    'Description                         Amount',
    'Pitch deck analysis (3 decks)       $1,200.00',
    'Priority processing                 $300.00',
    'Total amount due: $1,500.00',
    'Payment terms: 30 days. Please quote INV-2026-0042 with your payment.',
  ],
  'contract.pdf': [
    'SERVICE AGREEMENT',
    'This agreement is made on 1 October 2026 between Fabrikam Media GmbH and Tailspin Studios Ltd.',
    'Contract No: CT-7781',
    'The parties agree that Fabrikam Media GmbH will render presentation videos for Tailspin Studios Ltd.',
    'Term: twelve months from 1 October 2026, with termination on 30 days written notice.',
    'Fees: EUR 48,000.00 per year, payable quarterly.',
    'Signed for both parties on 1 October 2026.',
  ],
  'receipt.pdf': [
    'RECEIPT',
    'Corner Coffee Co.',
    'Receipt #: R-55120',
    'Date: 11/20/2026',
    '2 x Flat white        $8.50',
    '1 x Croissant         $3.75',
    'Subtotal              $12.25',
    'Total                 $12.25',
    'Paid by card. Thank you for your visit!',
  ],
}

export const LETTER = `Re: Your enquiry of 3 November 2026

Dear Ms Patel,

Thank you for your letter about the graph extraction service. We are glad to
confirm that Adventure Works Ltd. can process your archive of 2,000 scanned
charts before 15 December 2026.

Kind regards,

Jordan Lee
Adventure Works Ltd.
`

async function pdf(lines: string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create()
  const font = await doc.embedFont(StandardFonts.Helvetica)
  const page = doc.addPage([595, 842])
  for (const [i, line] of lines.entries()) page.drawText(line, { x: 50, y: 780 - i * 22, size: 12, font })
  doc.setCreationDate(new Date('2026-11-01T00:00:00Z'))
  doc.setModificationDate(new Date('2026-11-01T00:00:00Z'))
  return doc.save()
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = join(import.meta.dirname, 'samples')
  for (const [name, lines] of Object.entries(SAMPLES)) writeFileSync(join(dir, name), await pdf(lines))
  writeFileSync(join(dir, 'letter.txt'), LETTER)
  console.log(`wrote ${Object.keys(SAMPLES).length + 1} samples to ${dir}`)
}
