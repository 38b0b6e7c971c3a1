%


score	ffffffæ?

	
draft
