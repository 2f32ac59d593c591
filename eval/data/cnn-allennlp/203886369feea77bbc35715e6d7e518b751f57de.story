(CNN)Seventy years ago, Anne Frank died of typhus in a Nazi concentration camp at the age of 15.

Just two weeks after her supposed death on March 31, 1945, the Bergen-Belsen concentration camp where she had been imprisoned was liberated -- timing that showed how close the Jewish diarist had been to surviving the Holocaust.

But new research released by the Anne Frank House shows that Anne and her older sister, Margot Frank, died at least a month earlier than previously thought.

Researchers re-examined archives of the Red Cross, the International Training Service and the Bergen-Belsen Memorial, along with testimonies of survivors. They concluded that Anne and Margot probably did not survive to March 1945 -- contradicting the date of death which had previously been determined by Dutch authorities.

In 1944, Anne and seven others hiding in the Amsterdam secret annex were arrested and sent to the  Auschwitz-Birkenau concentration camp.

Anne Frank's final entry

That same year, Anne and Margot were separated from their mother and sent away to work as slave labor at the Bergen-Belsen camp in Germany.

Days at the camp were filled with terror and dread, witnesses said. The sisters stayed in a section of the overcrowded camp with no lighting, little water and no latrine. They slept on lice-ridden straw and violent storms shredded the tents, according to the researchers. Like the other prisoners, the sisters endured long hours at roll call.

Her classmate, Nannette Blitz, recalled seeing Anne there in December 1944: "She was no more than a skeleton by then. She was wrapped in a blanket; she couldn't bear to wear her clothes anymore because they were crawling with lice."

Listen to Anne Frank's friends describe her concentration camp experience

As the Russians advanced further, the Bergen-Belsen concentration camp became even more crowded, bringing more disease. A deadly typhus outbreak caused thousands to die each day.

Typhus is an infectious disease caused by lice that breaks out in places with poor hygiene. The disease causes high fever, chills and skin eruptions.

"Because of the lice infesting the bedstraw and her clothes, Anne was exposed to the main carrier of epidemic typhus for an extended period," museum researchers wrote.

They concluded that it's unlikely the sisters survived until March, because witnesses at the camp said the sisters both had symptoms before February 7.

"Most deaths caused by typhus occur around twelve days after the first symptoms appear," wrote  authors Erika Prins and Gertjan Broek.

The exact dates of death for Anne and Margot remain unclear. Margot died before Anne.

"Anne never gave up hope," said Blitz, her friend. "She was absolutely convinced she would survive."

Her diary endures as one of the world's most popular books.

Read more about Anne Frank's cousin, a keeper of her legacy

@highlight

Museum: Anne Frank died earlier than previously believed

@highlight

Researchers re-examined archives and testimonies of survivors

@highlight

Anne and older sister Margot Frank are believed to have died in February 1945