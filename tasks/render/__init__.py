"""7. Rendering: the report context, then the Word and Excel 資料 (and PDFs) from templates."""
