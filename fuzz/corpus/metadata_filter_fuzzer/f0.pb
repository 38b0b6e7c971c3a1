

yearã