mod seed_step1;
