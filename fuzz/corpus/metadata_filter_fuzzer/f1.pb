%


lang
en
"

tags	
b