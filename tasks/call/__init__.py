"""3. The call for submissions: one submission workbook (調査票) per department."""
